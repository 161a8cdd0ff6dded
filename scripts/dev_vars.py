"""The local secrets (.dev.vars, which `make setup` writes), as the scripts read them: a variable
of the environment first, else the file's line `NAME=value`."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dev_var(name: str, root: Path = ROOT) -> str | None:
    if value := os.environ.get(name):
        return value
    dev_vars = root / ".dev.vars"
    if dev_vars.exists():
        for line in dev_vars.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == name:
                return value.strip().strip("'\"")
    return None
