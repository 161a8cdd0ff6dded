"""make dev's kept baseline snapshot is reused only while what it holds is unchanged: the workerd
release, the Pyodide bundle, the Python workers' compatibility date and flags. The workers' code
is not in a baseline, so editing it keeps the snapshot (scripts/snapshots.py baseline_key)."""

import json

import pytest

from scripts.snapshots import baseline_key


@pytest.fixture
def inputs(tmp_path):
    package = tmp_path / "package.json"
    package.write_text(json.dumps({"name": "workerd", "version": "1.20261117.1"}))
    bundle = tmp_path / "pyodide_dev.capnp.bin"
    bundle.write_bytes(b"bundle bytes")
    worker = tmp_path / "worker"
    worker.mkdir()
    config = worker / "wrangler.toml"
    config.write_text('name = "w"\nmain = "entry.py"\ncompatibility_date = "2026-10-01"\ncompatibility_flags = ["python_workers"]\n')
    (worker / "entry.py").write_text("print('v1')\n")
    return package, bundle, config


def test_the_same_runtime_and_flags_give_the_same_key(inputs):
    package, bundle, config = inputs
    assert baseline_key(package, bundle, [config]) == baseline_key(package, bundle, [config])


def test_a_code_change_keeps_the_key(inputs):
    package, bundle, config = inputs
    before = baseline_key(package, bundle, [config])
    (config.parent / "entry.py").write_text("print('v2')\n")
    assert baseline_key(package, bundle, [config]) == before


@pytest.mark.parametrize("change", ["workerd release", "bundle", "compatibility flags", "compatibility date"])
def test_a_runtime_or_flag_change_makes_a_new_key(inputs, change):
    package, bundle, config = inputs
    before = baseline_key(package, bundle, [config])
    if change == "workerd release":
        package.write_text(json.dumps({"name": "workerd", "version": "1.20270101.0"}))
    elif change == "bundle":
        bundle.write_bytes(b"another bundle")
    elif change == "compatibility flags":
        config.write_text(config.read_text().replace('["python_workers"]', '["python_workers", "python_dedicated_snapshot"]'))
    else:
        config.write_text(config.read_text().replace("2026-10-01", "2026-11-01"))
    assert baseline_key(package, bundle, [config]) != before
