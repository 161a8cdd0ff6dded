"""A binding as the inference worker's code uses it: the runtime's own object in a thin adapter
of inference/store/runtime.py under the runtime, a test's Python stand-in as it is."""

from typing import Any

from shared.sdk import runtime_env


def binding(env: Any, name: str, adapter: str) -> Any:
    """The binding `name`: under the runtime its own object wrapped in store/runtime.py's
    `adapter` (the SDK's wrapper converts every value, one by one, on every call); a test's
    Python stand-in as it is."""
    source = runtime_env(env)
    if source is env:
        return getattr(env, name)
    from inference.store import runtime  # imports js: only under the runtime

    return getattr(runtime, adapter)(getattr(source, name))


def has_binding(env: Any, name: str) -> bool:
    return getattr(runtime_env(env), name, None) is not None
