"""Every place this code reaches past the Python Workers SDK (workers-runtime-sdk, pinned in
pyproject.toml) to the runtime's own objects behind its wrappers, and why. Each wrapper converts
every argument and result of every call value by value, and some are made anew for every call;
the runtime's objects take strings and numbers as they are, and stay the same for an isolate's
life. The attributes read here are private to the SDK: tests/unit/test_sdk_bypasses.py wraps
objects with the pinned SDK's own classes and fails if one of them is gone.

Each function takes a test's stand-in (no wrapper) and returns it as it is."""

from typing import Any


def runtime_env(env: Any) -> Any:
    """The runtime's env behind `_EnvWrapper` (its `_env`): the wrapper is made anew for every
    call, so per-isolate state is keyed on this (shared/isolate.py), and service bindings and
    queues reached through it take JSON text without a conversion."""
    return _behind(env, "_env")


def runtime_batch(batch: Any) -> Any:
    """The runtime's MessageBatch behind the `_BindingWrapper` the SDK gives a queue handler (its
    `_binding`): the wrapper would convert each message's body and attributes one by one."""
    return _behind(batch, "_binding")


def runtime_ctx(ctx: Any) -> Any:
    """The runtime's DurableObjectState behind `DurableObjectContext` (its `_ctx`): its
    storage.sql then runs each statement without the wrapper converting every value."""
    return _behind(ctx, "_ctx")


def _behind(wrapper: Any, attribute: str) -> Any:
    # vars(): the wrappers' __getattr__ would ask the runtime's object for a name it lacks.
    return vars(wrapper).get(attribute, wrapper) if hasattr(wrapper, "__dict__") else wrapper
