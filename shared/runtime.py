"""What this code knows of the runtime it runs on: its name, as /health reports it (the JS global
`navigator.userAgent`: "Cloudflare-Workers" on workerd, on Cloudflare and locally; "Node.js/24"
in devhost's Pyodide host; CPython, where the unit tests run, has no JS globals), and the
runtime's own env behind the SDK's wrapper."""

import platform
from typing import Any


def runtime_env(env: Any) -> Any:
    """The runtime's env behind the SDK's wrapper (`_EnvWrapper._env`), or `env` itself (a test's).
    The wrapper converts every argument and result of a binding call value by value, and wraps
    env anew for every call; the runtime's bindings take strings and numbers as they are."""
    return vars(env).get("_env", env) if hasattr(env, "__dict__") else env


def runtime_name() -> str:
    try:
        from js import navigator
    except ImportError:
        return f"{platform.python_implementation()} {platform.python_version()}"
    return str(navigator.userAgent)
