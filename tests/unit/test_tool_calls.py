"""Tool calling in the inference service: what reaches the model, how its calls are read (whole
answers in both of Workers AI's shapes, streams in both formats), how they are told to a
client's stream, counted, cached, recorded, and which models may serve them."""

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from inference import cache, planning, usage
from inference.store.records import ModelCallRecord
from inference.store.telemetry import call_point
from inference.tool_calls import ToolCallAssembler, parse_tool_calls
from shared.contract import Caller, ChatMessage, GenerationRequest, ServiceFailed, ToolCall
from shared.streams import OpenAIChunks
from shared.workers_ai import SSEDecoder, ToolCallPiece, Usage
from tests.fakes import inference_env

SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct-fast"
WEATHER = {"name": "weather", "description": "The weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
TIME = {"name": "local_time", "parameters": {"type": "object", "properties": {}}}
CALL_ID = re.compile(r"^call_[0-9a-f]{24}$")


def request(**extra):
    fields = {"request_id": "r", "caller": Caller(key_id="k", tier="pro"), "kind": "chat", "model": SCOUT,
              "messages": [ChatMessage(role="user", content="Weather in Paris?")], "max_tokens": 50, "stream_id": "s",
              "tools": [WEATHER, TIME], **extra}
    return GenerationRequest(**fields)


def sse(*payloads) -> bytes:
    return b"".join(f"data: {json.dumps(p)}\n\n".encode() for p in payloads) + b"data: [DONE]\n\n"


def decoded(stream: bytes, chunk: int = 9):
    decoder = SSEDecoder()
    events = []
    for start in range(0, len(stream), chunk):
        events += decoder.feed(stream[start:start + chunk])
    return events + decoder.close()


# --- reading the model's answer --------------------------------------------------------------

def test_workers_ai_native_stream_pieces_are_decoded_and_the_closing_null_piece_left_out():
    stream = sse(
        {"response": "", "tool_calls": [{"index": 0, "id": "chatcmpl-tool-1", "type": "function", "function": {"name": "weather"}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]},
        {"tool_calls": [{"id": None, "type": None, "function": {"name": None, "arguments": None}}]},
        {"response": "", "usage": {"prompt_tokens": 20, "completion_tokens": 8}},
    )

    pieces = [piece for event in decoded(stream) for piece in event.tool_calls]

    assert pieces == [ToolCallPiece(0, "chatcmpl-tool-1", "weather", ""), ToolCallPiece(0, None, None, '{"city": '),
                      ToolCallPiece(0, None, None, '"Paris"}')]


def test_openai_stream_pieces_in_the_delta_are_decoded_alongside_its_text():
    stream = sse(
        {"choices": [{"index": 0, "delta": {"content": "Checking."}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_x", "type": "function",
                                                            "function": {"name": "local_time", "arguments": ""}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}}]},
    )

    events = decoded(stream)

    assert "".join(e.text for e in events) == "Checking."
    assert [p for e in events for p in e.tool_calls] == [ToolCallPiece(1, "call_x", "local_time", ""), ToolCallPiece(1, None, None, "{}")]


def test_a_flat_answer_has_its_argument_objects_as_json_text_and_ids_minted():
    calls = parse_tool_calls([{"name": "weather", "arguments": {"city": "Paris"}}, {"name": "local_time", "arguments": {}}])

    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("weather", {"city": "Paris"}), ("local_time", {})]
    assert all(CALL_ID.match(c.id) for c in calls) and calls[0].id != calls[1].id


def test_an_openai_shaped_answer_keeps_its_ids_and_takes_arguments_as_text_or_object():
    calls = parse_tool_calls([
        {"id": "chatcmpl-tool-9", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Oslo"}'}},
        {"id": "chatcmpl-tool-10", "type": "function", "function": {"name": "local_time", "arguments": {"tz": "UTC"}}},
    ])

    assert calls == [ToolCall(id="chatcmpl-tool-9", name="weather", arguments='{"city":"Oslo"}'),
                     ToolCall(id="chatcmpl-tool-10", name="local_time", arguments='{"tz":"UTC"}')]


def test_one_call_at_a_time_keeps_the_first_and_nothing_is_read_from_an_answer_without_calls():
    raw = [{"name": "weather", "arguments": {"city": "Paris"}}, {"name": "local_time", "arguments": {}}]

    assert [c.name for c in parse_tool_calls(raw, parallel=False)] == ["weather"]
    assert parse_tool_calls(None) == [] and parse_tool_calls([]) == []


# --- telling a stream's calls to the client ---------------------------------------------------

def chunks(text: str) -> list[dict]:
    return [json.loads(line[6:]) for line in text.split("\n\n") if line.startswith("data: {")]


def test_streamed_pieces_become_openai_deltas_indexed_from_zero_and_whole_calls_at_the_end():
    encoder = OpenAIChunks("c1", SCOUT, 0, include_usage=False)
    calls = ToolCallAssembler()
    out = calls.feed([ToolCallPiece(3, None, "weather", "")], encoder)
    out += calls.feed([ToolCallPiece(3, None, None, '{"city":'), ToolCallPiece(3, None, None, '"Paris"}')], encoder)
    out += calls.feed([ToolCallPiece(4, "t2", "local_time", "{}")], encoder)

    deltas = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks(out)]
    assert deltas[0]["index"] == 0 and deltas[0]["function"]["name"] == "weather" and CALL_ID.match(deltas[0]["id"])
    assert [d["function"]["arguments"] for d in deltas[1:3]] == ['{"city":', '"Paris"}']
    assert deltas[3]["index"] == 1 and deltas[3]["id"] == "t2" and deltas[4]["function"]["arguments"] == "{}"
    assert [(c.name, c.arguments) for c in calls.calls] == [("weather", '{"city":"Paris"}'), ("local_time", "{}")]


def test_arguments_before_the_name_go_out_with_the_calls_start():
    encoder = OpenAIChunks("c1", SCOUT, 0, include_usage=False)
    calls = ToolCallAssembler()

    early = calls.feed([ToolCallPiece(0, "t1", None, '{"a":1}')], encoder)
    start = calls.feed([ToolCallPiece(0, None, "weather", "")], encoder)

    assert early == ""
    assert [c["choices"][0]["delta"]["tool_calls"][0]["function"] for c in chunks(start)] == [
        {"name": "weather", "arguments": ""}, {"arguments": '{"a":1}'}]


def test_one_call_at_a_time_drops_the_pieces_of_later_calls():
    encoder = OpenAIChunks("c1", SCOUT, 0, include_usage=False)
    calls = ToolCallAssembler(parallel=False)
    calls.feed([ToolCallPiece(0, "t1", "weather", "{}")], encoder)

    assert calls.feed([ToolCallPiece(1, "t2", "local_time", "{}")], encoder) == ""
    assert [c.id for c in calls.calls] == ["t1"]


# --- what reaches the model ------------------------------------------------------------------

def test_tools_reach_the_model_in_workers_ais_shape_with_the_choice():
    inputs = planning.model_inputs(request())

    assert inputs["tools"] == [{"type": "function", "function": WEATHER}, {"type": "function", "function": TIME}]
    assert inputs["tool_choice"] == "auto"
    assert planning.model_inputs(request(tool_choice={"mode": "required"}))["tool_choice"] == "required"


def test_tool_choice_none_offers_no_tools_and_a_named_function_only_that_one():
    assert "tools" not in planning.model_inputs(request(tool_choice={"mode": "none"}))
    named = planning.model_inputs(request(tool_choice={"mode": "function", "name": "local_time"}))

    assert [t["function"]["name"] for t in named["tools"]] == ["local_time"]
    assert named["tool_choice"] == {"type": "function", "function": {"name": "local_time"}}


def test_calls_and_results_in_the_conversation_reach_the_model():
    call = ToolCall(id="call_1", name="weather", arguments='{"city":"Paris"}')
    req = request(messages=[ChatMessage(role="user", content="Weather in Paris?"),
                            ChatMessage(role="assistant", tool_calls=[call]),
                            ChatMessage(role="tool", content="22C", tool_call_id="call_1")])

    messages = planning.model_inputs(req)["messages"]

    assert messages[1]["tool_calls"] == [{"id": "call_1", "type": "function",
                                          "function": {"name": "weather", "arguments": '{"city":"Paris"}'}}]
    assert messages[2] == {"role": "tool", "content": "22C", "tool_call_id": "call_1"}


def test_a_model_that_does_not_stream_tool_calls_is_not_streamed_when_offered_tools():
    env = SimpleNamespace(FALLBACK_MODELS="llama-3.3-70b")

    assert planning.streaming_attempts(env, request(model=LLAMA_70B)) == []  # had whole, then sent as the stream
    assert planning.streaming_attempts(env, request(model=LLAMA_70B, tools=[])) == [("workers-ai", LLAMA_70B)]
    assert planning.streaming_attempts(env, request(model=LLAMA_70B, tool_choice={"mode": "none"})) == [("workers-ai", LLAMA_70B)]
    assert planning.streaming_attempts(env, request(model=SCOUT)) == [("workers-ai", SCOUT)]  # the fallback cannot stream them


def test_the_external_provider_streams_tool_calls_for_a_model_that_does_not_on_workers_ai():
    env = SimpleNamespace(PROVIDER_URL="https://provider.example/v1", PROVIDER_NAME="ext",
                          PROVIDER_MODELS=json.dumps({"llama-3.3-70b": "big-model"}),
                          ROUTING_RULES=json.dumps([{"provider": "ext", "complexity": "high"}]))

    assert planning.streaming_attempts(env, request(model=LLAMA_70B, complexity="high")) == [("ext", LLAMA_70B)]


# --- which models serve it --------------------------------------------------------------------

def test_fallbacks_without_tool_calling_are_skipped_for_a_request_with_tools():
    env = SimpleNamespace(FALLBACK_MODELS="llama-3.1-8b, llama-3.3-70b")

    assert planning.model_chain(env, request()) == [SCOUT, LLAMA_70B]
    assert planning.model_chain(env, request(tools=[])) == [SCOUT, LLAMA_8B, LLAMA_70B]


def test_tools_for_a_model_without_them_are_refused_naming_the_field_and_the_models_that_have_them():
    env = SimpleNamespace(FALLBACK_MODELS="llama-3.3-70b")

    with pytest.raises(ServiceFailed) as raised:
        planning.model_attempts(env, request(model=LLAMA_8B))

    failure = raised.value.failure
    assert failure.code == "unsupported" and failure.details["field"] == "tools"
    assert failure.details["models"] == [LLAMA_70B, "@cf/mistralai/mistral-small-3.1-24b-instruct", SCOUT]
    assert failure.message.startswith(f"tools: {LLAMA_8B} does not do tool calling")


def test_tools_for_a_model_without_them_go_to_the_external_provider_when_routing_sends_them_there():
    env = SimpleNamespace(PROVIDER_URL="https://provider.example/v1", PROVIDER_NAME="ext",
                          PROVIDER_MODELS=json.dumps({"llama-3.1-8b": "big-model"}),
                          ROUTING_RULES=json.dumps([{"provider": "ext", "complexity": "high"}]))

    assert planning.model_attempts(env, request(model=LLAMA_8B, complexity="high")) == [("ext", LLAMA_8B)]
    with pytest.raises(ServiceFailed):  # routed to Workers AI, which cannot
        planning.model_attempts(SimpleNamespace(), request(model=LLAMA_8B))


# --- counting, caching, recording --------------------------------------------------------------

def test_tool_calls_count_as_answer_tokens_and_finish_the_answer_as_tool_calls():
    call = ToolCall(id="call_1", name="weather", arguments='{"city":"Paris"}')  # 7 + 16 characters

    assert planning.estimate_usage(request(), "", [call]).completion_tokens == 5
    assert planning.estimate_usage(request(), "abcd", [call]).completion_tokens == 6
    assert planning.finish_reason(request(), Usage(3, 50), tool_calls=[call]) == "tool_calls"


def test_an_answer_with_tool_calls_is_cached_with_them_under_a_key_that_holds_the_tools():
    def key(**fields):
        return cache.cache_key(request(temperature=0, **fields), "caller:k1")

    assert len({key(tools=[]), key(), key(tools=[WEATHER]), key(tool_choice={"mode": "required"}),
                key(parallel_tool_calls=False)}) == 5
    calls = [ToolCall(id="call_1", name="weather", arguments='{"city":"Paris"}')]
    kept = json.loads(json.dumps(cache.entry(SCOUT, "", Usage(3, 4), calls)))
    assert cache.entry_calls(kept) == calls
    assert cache.entry_calls(cache.entry(SCOUT, "hi", Usage(3, 4))) == []


def test_a_call_that_used_tools_says_so_in_its_row_and_its_point():
    env = inference_env()
    record = ModelCallRecord(Caller(key_id="k1"), SCOUT, "chat", "ok", Usage(3, 4), 10, 5, used_tools=True)

    asyncio.run(usage.record(env, record))
    asyncio.run(usage.record(env, ModelCallRecord(Caller(key_id="k1"), SCOUT, "chat", "ok", Usage(3, 4), 10, 5)))

    assert env.DB.rows("SELECT used_tools FROM ai_calls ORDER BY rowid") == [(1,), (0,)]
    assert call_point(record)["doubles"][-1] == 1
    meter = usage.Meter.of(env, request(), "chat")
    assert meter.used_tools and not usage.Meter.of(env, request(tools=[]), "chat").used_tools


def test_the_tools_column_keeps_every_call_recorded_before_it():
    migrations = sorted((Path(__file__).resolve().parents[2] / "migrations").glob("*.sql"))
    before = [m for m in migrations if m.name < "0010"]
    db = sqlite3.connect(":memory:")
    for migration in before:
        db.executescript(migration.read_text())
    db.execute("INSERT INTO ai_calls (key_id, ts, model, kind, outcome, latency_ms, ttft_ms, prompt_tokens, completion_tokens) "
               "VALUES ('k', 1, 'm', 'chat', 'ok', 1, 1, 2, 3)")

    for migration in migrations[len(before):]:
        db.executescript(migration.read_text())

    assert db.execute("SELECT key_id, prompt_tokens, completion_tokens, used_tools FROM ai_calls").fetchall() == [("k", 2, 3, 0)]


def test_the_external_provider_is_offered_the_tools_and_sent_the_conversations_calls():
    from inference.external import ExternalProvider
    from shared.routing import ProviderModel

    provider = ExternalProvider("ext", "https://provider.example/v1", None, {SCOUT: ProviderModel(model="big")})
    call = ToolCall(id="call_1", name="weather", arguments="{}")
    req = request(tool_choice={"mode": "required"}, messages=[
        ChatMessage(role="user", content="Weather?"), ChatMessage(role="assistant", tool_calls=[call]),
        ChatMessage(role="tool", content="22C", tool_call_id="call_1")])

    body = json.loads(provider._body(SCOUT, planning.model_inputs(req), stream=True))

    assert [t["function"]["name"] for t in body["tools"]] == ["weather", "local_time"] and body["tool_choice"] == "required"
    assert body["messages"][1]["tool_calls"][0]["id"] == "call_1" and body["messages"][2]["tool_call_id"] == "call_1"
