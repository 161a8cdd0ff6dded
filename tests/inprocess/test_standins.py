"""The runtime's stand-ins (tests/inprocess/sdk.py, streams.py) behave as the runtime does where
the workers depend on it, and name nothing the pinned SDK lacks."""

import ast
import asyncio
from importlib.metadata import files

from tests.inprocess import sdk
from tests.inprocess.streams import AbortController, JsException, JsObject, ReadableStream, TransformStream, Uint8Array, WritableStream


def run(work):
    return asyncio.new_event_loop().run_until_complete(work)


def source_of(*chunks: bytes) -> tuple[ReadableStream, list[str]]:
    """A stream of `chunks` (one a pull) and the reasons it was cancelled with."""
    cancelled: list[str] = []
    pending = list(chunks)

    def pull(controller):
        if pending:
            controller.enqueue(Uint8Array(pending.pop(0)))
        else:
            controller.close()

    return ReadableStream(JsObject(pull=pull, cancel=lambda reason: cancelled.append(str(reason))), JsObject(highWaterMark=0)), cancelled


async def read_all(stream: ReadableStream) -> bytes:
    reader, data = stream.getReader(), b""
    while not (result := await reader.read()).done:
        data += result.value.to_bytes()
    return data


def test_a_pipe_stopped_by_its_signal_with_prevent_cancel_hands_the_source_on_whole():
    async def scenario():
        source, cancelled = source_of(b"a", b"b", b"c")
        switch = AbortController.new()
        first: list[bytes] = []

        def write(chunk, _controller=None):
            first.append(chunk.to_bytes())
            switch.abort()

        try:
            await source.pipeTo(WritableStream(JsObject(write=write)), JsObject(signal=switch.signal, preventCancel=True))
        except JsException:
            pass
        return first, await read_all(source), cancelled

    first, rest, cancelled = run(scenario())

    assert first == [b"a"] and rest == b"bc" and cancelled == []


def test_a_reader_that_cancels_a_relay_cancels_the_source_behind_it():
    async def scenario():
        source, cancelled = source_of(b"a", b"b")
        passage = TransformStream.new()
        piped = source.pipeTo(passage.writable)
        await passage.readable.cancel("the client went away")
        try:
            await piped
        except JsException as exc:
            return str(exc), cancelled
        return None, cancelled

    failure, cancelled = run(scenario())

    assert failure == "the client went away" and cancelled == ["the client went away"]


def test_a_byob_read_takes_everything_queued_up_to_the_views_size():
    async def scenario():
        controllers = []
        inbox = ReadableStream(JsObject(type="bytes", start=controllers.append))
        for chunk in (b"ab", b"cd", b"ef"):
            controllers[0].enqueue(Uint8Array(chunk))
        reader = inbox.getReader(JsObject(mode="byob"))
        first = await reader.read(Uint8Array.new(5))
        second = await reader.read(Uint8Array.new(first.value.buffer))
        return first.value.to_bytes(), second.value.to_bytes()

    assert run(scenario()) == (b"abcde", b"f")


def test_the_stand_ins_name_only_what_the_pinned_sdk_has():
    """The `workers` names against the installed workers-runtime-sdk (the version pyproject pins)."""
    init = next(f for f in files("workers-runtime-sdk") if str(f) == "workers/__init__.py")
    exported = next(node.value for node in ast.parse(init.read_text()).body
                    if isinstance(node, ast.Assign) and node.targets[0].id == "__all__")
    sdk_names = {element.value for element in exported.elts}

    assert set(vars(sdk.modules()["workers"])) - {"__name__", "__doc__", "__package__", "__loader__", "__spec__"} <= sdk_names
