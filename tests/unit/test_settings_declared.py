"""Every var a worker's wrangler.toml sets is a setting that worker declares (shared/config.py),
and the configuration table of the docs lists it: a var set in a config but read by no code, or
read but documented nowhere, fails here."""

import re
import tomllib
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import pytest

from api.settings import Settings as ApiSettings
from api.settings import settings_of as api_settings_of
from inference.settings import Settings as InferenceSettings
from shared.config import declared_vars

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = {"api": (ROOT / "wrangler.toml", ApiSettings), "inference": (ROOT / "inference_worker" / "wrangler.toml", InferenceSettings)}
# Names the deployment in `wrangler deploy`'s output (scripts/deploy.py); no code reads it.
NOT_SETTINGS = {"ENVIRONMENT"}


def set_vars(config: Path) -> set[str]:
    """The [vars] of every environment of the config (wrangler does not inherit them)."""
    parsed = tomllib.loads(config.read_text())
    return set(parsed["vars"]).union(*(set(env.get("vars", {})) for env in parsed.get("env", {}).values()))


@pytest.mark.parametrize("worker", CONFIGS)
def test_every_var_in_wrangler_toml_is_a_declared_setting_of_that_worker(worker):
    config, settings = CONFIGS[worker]

    assert set_vars(config) - NOT_SETTINGS - set(declared_vars(settings)) == set()


@pytest.mark.parametrize("settings", [ApiSettings, InferenceSettings])
def test_every_setting_names_its_var_and_says_why(settings):
    declared = {spec.name: spec.metadata for spec in fields(settings)}

    assert [name for name, spec in declared.items() if not ("var" in spec or spec.get("vars"))] == []
    assert [name for name, spec in declared.items() if not spec.get("doc")] == []


def configuration_table() -> set[str] | None:
    """The vars listed in the first column of the docs' configuration table, or None where the
    docs have no configuration section."""
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        section = re.search(r"^#+ [^\n]*[Cc]onfiguration[^\n]*\n(.*?)(?=^#+ |\Z)", page.read_text(), re.M | re.S)
        if section and "|" in section.group(1):
            first_cells = re.findall(r"^\|([^|\n]*)\|", section.group(1), re.M)
            return {var for cell in first_cells for var in re.findall(r"`([A-Z][A-Z0-9_<>]+)`", cell)}
    return None


def test_the_docs_configuration_table_lists_every_var_the_configs_set():
    listed = configuration_table()
    if listed is None:
        pytest.skip("the docs have no configuration table yet")
    every_var = set().union(*(set_vars(config) for config, _ in CONFIGS.values())) - NOT_SETTINGS

    assert every_var - listed == set()


def test_the_api_parses_an_env_once():
    env = SimpleNamespace(EVENTS_MAX_BATCH="40")
    first = api_settings_of(env)
    env.EVENTS_MAX_BATCH = "9"  # vars cannot change while an isolate lives; a change is not seen

    assert api_settings_of(env) is first
    assert first.events_max_batch == 40
