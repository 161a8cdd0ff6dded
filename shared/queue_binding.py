"""The event queue's binding as the runtime has it (EVENT_QUEUE), for shared/batches.py's sender:
the only code that touches it, in either worker."""

from typing import Any

from js import Object
from pyodide.ffi import to_js


class TextQueue:
    def __init__(self, binding: Any) -> None:
        self._queue = binding
        # Sent as text: the message crosses as a string, with no conversion, and its size is its
        # UTF-8 bytes (shared/batches.py keeps them under the limit). Made here, not at import: a
        # JavaScript object cannot be kept in the worker's startup snapshot.
        self._as_text = to_js({"contentType": "text"}, dict_converter=Object.fromEntries)

    async def send(self, text: str) -> None:
        await self._queue.send(text, self._as_text)
