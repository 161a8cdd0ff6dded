"""A response body written from Python and handed out as a ReadableStream. The only module
here that touches `js`."""

import asyncio

from js import TransformStream
from pyodide.ffi import JsException, to_js

from inference.ai_client import ClientGone


class BodyWriter:
    """A response body written from Python. Writes wait while the reader is behind
    (backpressure) and raise ClientGone once the reader has cancelled."""

    def __init__(self) -> None:
        stream = TransformStream.new()
        self.readable = stream.readable
        self._writer = stream.writable.getWriter()
        self._closed: asyncio.Future | None = None

    def closed(self) -> asyncio.Future:
        """Done when the body ends: by our close or abort, or by the reader cancelling it (the
        client went away), which a producer waiting on something else can race against."""
        if self._closed is None:
            self._closed = asyncio.ensure_future(self._writer.closed)
            self._closed.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved: no warning
        return self._closed

    async def write(self, text: str) -> None:
        if not text:
            return
        try:
            await self._writer.write(to_js(text.encode()))
        except JsException as exc:
            raise ClientGone(str(exc)) from exc

    async def close(self) -> None:
        try:
            await self._writer.close()
        except JsException as exc:
            raise ClientGone(str(exc)) from exc

    async def abort(self, reason: str) -> None:
        """End the body abnormally: the client's reader fails instead of seeing a clean end."""
        try:
            await self._writer.abort(reason)
        except JsException:
            pass
