"""One Node requirement, stated once: the machine's (20+) and the tools' (24, what setup provides)
agree across the README, package.json and setup."""

import json
import re
from pathlib import Path

from scripts.bootstrap import MIN_NODE_MAJOR

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_package_json_and_setup_state_one_node_requirement():
    readme = (ROOT / "README.md").read_text()
    engines = json.loads((ROOT / "package.json").read_text())["engines"]["node"]

    stated = re.findall(r"Node (\d+)\+", readme) + re.findall(r"Node (\d+) or newer", readme)
    assert stated == ["20"]  # the machine's, once
    assert engines == f">={MIN_NODE_MAJOR}"
    assert f"run on Node {MIN_NODE_MAJOR}" in readme
    assert not re.search(r"Node (?!20\b|24\b)\d+", readme)  # no third version anywhere
