"""Setup's choice of tools: with .devhost/bin on PATH (as the README's deploy section suggests),
its own links are never taken for the system's."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import bootstrap  # noqa: E402


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_the_projects_own_node_link_is_not_the_system_node(tmp_path, monkeypatch):
    link = executable(tmp_path / "project" / ".devhost" / "bin" / "node")
    system = executable(tmp_path / "usr" / "bin" / "node")
    monkeypatch.setattr(bootstrap, "NODE_LINK", link)
    monkeypatch.setenv("PATH", os.pathsep.join([str(link.parent), str(system.parent)]))

    assert bootstrap.system_tool("node") == str(system)


def test_no_system_node_but_the_link_is_no_node(tmp_path, monkeypatch):
    link = executable(tmp_path / ".devhost" / "bin" / "node")
    monkeypatch.setattr(bootstrap, "NODE_LINK", link)
    monkeypatch.setenv("PATH", str(link.parent))

    assert bootstrap.system_tool("node") is None
