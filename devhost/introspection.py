# Runs inside each worker's Pyodide: finds the entrypoint classes of the main module and
# calls their methods with the conversions workerd applies at the RPC boundary.
from inspect import isawaitable, isclass
from types import FunctionType

import js
from pyodide.code import relaxed_call
from pyodide.ffi import to_js
from workers import WorkerEntrypoint, python_from_rpc, python_to_rpc


def _public_methods(cls):
    names = set()
    for klass in cls.__mro__:
        if klass is WorkerEntrypoint or klass is object:
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and isinstance(value, FunctionType):
                names.add(name)
    return sorted(names)


def collect_entrypoints(module):
    found = {}
    for name in dir(module):
        value = getattr(module, name)
        if isclass(value) and issubclass(value, WorkerEntrypoint) and value is not WorkerEntrypoint:
            found[value.__name__] = _public_methods(value)
    return to_js(found, dict_converter=js.Object.fromEntries)


async def call_method(relaxed, instance, name, *args):
    method = getattr(instance, name)
    py_args = [python_from_rpc(arg) for arg in args]
    result = relaxed_call(method, *py_args) if relaxed else method(*py_args)
    if isawaitable(result):
        result = await result
    return python_to_rpc(result)
