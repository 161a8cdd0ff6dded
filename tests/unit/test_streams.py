import json

import pytest

from shared.contract import ToolCall
from shared.streams import OpenAIChunks, UIMessageStream, _event, make_encoder
from shared.workers_ai import Usage

USAGE = Usage(3, 2)


def events(text: str) -> list:
    return [json.loads(e[len("data: "):]) if e != "data: [DONE]" else "[DONE]" for e in text.split("\n\n") if e]


def test_ui_message_stream_has_the_v1_chunk_sequence():
    enc = make_encoder("ui", stream_id="m1", model="x", created=0)
    out = enc.start() + enc.delta("Hel") + enc.delta("") + enc.delta("lo") + enc.finish("stop", USAGE, {"model": "x"})

    assert [e if e == "[DONE]" else e["type"] for e in events(out)] == [
        "start", "start-step", "text-start", "text-delta", "text-delta", "text-end", "finish-step", "finish", "[DONE]"
    ]
    chunks = events(out)
    assert chunks[0] == {"type": "start", "messageId": "m1"}
    assert chunks[3] == {"type": "text-delta", "id": "m1-text", "delta": "Hel"}
    # AI SDK 5.0.0's finish chunk is a strict object: only messageMetadata may ride along.
    assert set(chunks[7]) == {"type", "messageMetadata"}
    assert chunks[7]["messageMetadata"]["finishReason"] == "stop"
    assert chunks[7]["messageMetadata"]["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_ui_message_stream_error_is_an_error_chunk_then_done():
    assert events(make_encoder("ui", stream_id="m", model="x", created=0).error("boom")) == [
        {"type": "error", "errorText": "boom"}, "[DONE]"
    ]


def test_text_stream_is_the_bare_text_and_has_no_in_band_error():
    enc = make_encoder("text", stream_id="m", model="x", created=0)

    assert enc.start() + enc.delta("a b") + enc.finish("stop", USAGE, {}) == "a b"
    assert enc.error("boom") is None


def test_openai_chunks_end_with_usage_then_done():
    enc = make_encoder("openai", stream_id="c1", model="m", created=7, include_usage=True)
    chunks = events(enc.start() + enc.delta("hi") + enc.finish("length", USAGE, {}))

    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[1]["choices"][0]["delta"] == {"content": "hi"}
    assert chunks[2]["choices"][0]["finish_reason"] == "length"
    assert chunks[3]["choices"] == [] and chunks[3]["usage"]["total_tokens"] == 5
    assert chunks[-1] == "[DONE]"
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == "c1" for c in chunks[:-1])


def test_openai_chunks_without_include_usage_carry_no_usage():
    enc = make_encoder("openai", stream_id="c1", model="m", created=7)
    chunks = events(enc.start() + enc.finish("stop", USAGE, {}))

    assert all("usage" not in c for c in chunks[:-1])


@pytest.mark.parametrize("text", ["hi", 'a "quote" \\ and\nnewline', "é 😀 \u0000 \u2028 </script>"])
def test_a_delta_is_the_same_event_the_dict_would_give(text):
    ui = UIMessageStream("m1")
    ui.delta("first")
    assert ui.delta(text) == _event({"type": "text-delta", "id": "m1-text", "delta": text})
    for include_usage in (True, False):
        openai = OpenAIChunks("c", "m", 1, include_usage)
        assert openai.delta(text) == openai._chunk({"content": text})


def test_ui_message_stream_of_a_tool_call_is_its_input_chunks_then_tool_calls_as_the_finish_reason():
    enc = UIMessageStream("m1")
    out = (enc.start() + enc.tool_call_start(0, "call_1", "weather") + enc.tool_call_delta(0, '{"city": ')
           + enc.tool_call_delta(0, "") + enc.tool_call_delta(0, '"Paris"}')
           + enc.tool_call_end(0, ToolCall(id="call_1", name="weather", arguments='{"city": "Paris"}'))
           + enc.finish("tool_calls", USAGE, {}))
    chunks = events(out)

    assert [c if c == "[DONE]" else c["type"] for c in chunks] == [
        "start", "start-step", "tool-input-start", "tool-input-delta", "tool-input-delta", "tool-input-available",
        "finish-step", "finish", "[DONE]"]  # no text part: the answer had no text
    assert chunks[2] == {"type": "tool-input-start", "toolCallId": "call_1", "toolName": "weather"}
    assert "".join(c["inputTextDelta"] for c in chunks[3:5]) == '{"city": "Paris"}'
    assert chunks[5] == {"type": "tool-input-available", "toolCallId": "call_1", "toolName": "weather", "input": {"city": "Paris"}}
    assert chunks[7]["messageMetadata"]["finishReason"] == "tool-calls"


def test_ui_message_stream_of_text_then_two_calls_opens_and_closes_the_text_part_once():
    enc = UIMessageStream("m1")
    out = enc.start() + enc.delta("Let me look. ")
    for index, (call_id, name) in enumerate([("c1", "weather"), ("c2", "time")]):
        out += enc.tool_call_start(index, call_id, name) + enc.tool_call_delta(index, "{}")
    out += enc.tool_call_end(0, ToolCall(id="c1", name="weather")) + enc.tool_call_end(1, ToolCall(id="c2", name="time"))
    chunks = events(out + enc.finish("tool_calls", USAGE, {}))

    assert [c if c == "[DONE]" else c["type"] for c in chunks] == [
        "start", "start-step", "text-start", "text-delta", "tool-input-start", "tool-input-delta", "tool-input-start",
        "tool-input-delta", "tool-input-available", "tool-input-available", "text-end", "finish-step", "finish", "[DONE]"]
    assert [c["toolCallId"] for c in chunks if c != "[DONE]" and c["type"].startswith("tool-")] == ["c1", "c1", "c2", "c2", "c1", "c2"]
    assert [c["input"] for c in chunks[8:10]] == [{}, {}]
def test_openai_completion_chunks_carry_the_text_then_the_finish_reason_usage_and_done():
    enc = make_encoder("openai-completion", stream_id="cmpl-1", model="m", created=7, include_usage=True)
    chunks = events(enc.start() + enc.delta("Hel") + enc.delta('lo "you"') + enc.finish("stop", USAGE, {}))

    assert [c["choices"][0]["text"] for c in chunks[:3]] == ["Hel", 'lo "you"', ""]
    assert [c["choices"][0]["finish_reason"] for c in chunks[:3]] == [None, None, "stop"]
    assert chunks[3]["choices"] == [] and chunks[3]["usage"]["total_tokens"] == 5
    assert chunks[-1] == "[DONE]"
    assert all(c["object"] == "text_completion" and c["id"] == "cmpl-1" for c in chunks[:-1])
    assert events(enc.error("boom"))[0]["error"]["message"] == "boom"
