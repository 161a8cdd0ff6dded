"""The runtime's types the api uses, in one module: the only api module that imports `workers`,
`js` and `pyodide`, so the api's pipeline runs wherever these names can be given (workerd, and
the in-process tests on CPython, whose stand-ins replace this one seam: tests/inprocess/sdk.py)."""

from js import Object
from pyodide.ffi import jsnull, to_js
from workers import Response

try:  # the runtime's own byte stream: a pipe through it pumps with no JavaScript a chunk
    from js import IdentityTransformStream as Passage
except ImportError:  # runtimes with only the standard one
    from js import TransformStream as Passage

__all__ = ["Object", "Passage", "Response", "jsnull", "to_js"]
