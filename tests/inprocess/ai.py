"""The Workers AI binding for the in-process suite, answering as the local host's stand-in
(devhost/ai.mjs) does for the common cases: deterministic text (the last user message echoed),
JSON mode (a value of the asked schema), tool calls in each model's shape, streamed answers as
SSE bytes in a ReadableStream, lexical-hash embeddings; and its knobs: latency, a token delay,
failures to inject (`error`, `mid_stream`, `stall`), the calls it saw."""

import asyncio
import base64
import json
import math
import re
from typing import Any

from tests.inprocess.streams import JsObject, ReadableStream, Uint8Array

TEXT_MODELS = ("@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
               "@cf/mistralai/mistral-small-3.1-24b-instruct", "@cf/meta/llama-4-scout-17b-16e-instruct")
EMBEDDING_MODELS = {"@cf/baai/bge-small-en-v1.5": 384, "@cf/baai/bge-base-en-v1.5": 768, "@cf/baai/bge-large-en-v1.5": 1024}
DEFAULT_MAX_TOKENS = 256
# The guardrails' moderation model flags the last turn when it holds the marker (as local/ai.mjs's).
MODERATION_MODEL = "@cf/meta/llama-guard-3-8b"
MODERATION_MARKER = "unsafe-marker"
SAMPLING_OPTIONS = ("temperature", "max_tokens", "top_p", "top_k", "seed", "stop", "repetition_penalty",
                    "frequency_penalty", "presence_penalty")
TOOL_SHAPES = {"@cf/meta/llama-3.3-70b-instruct-fp8-fast": "flat", "@cf/mistralai/mistral-small-3.1-24b-instruct": "flat",
               "@cf/meta/llama-4-scout-17b-16e-instruct": "openai"}
STOP_WORDS = set(("a an and are as at be by does did do for from has have how in is it its of on or that the "
                  "this to was were what when where which who why will with you your").split())
SCHEMA_MARKER = "JSON Schema: "
WORD = re.compile(r"[^\W_]+")


class AiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")


def default_knobs() -> dict[str, Any]:
    return {"latencyMs": 0, "tokenDelayMs": 0, "failures": [], "failingWorkers": []}


def _count_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _describe_image(url: str | None) -> str:
    match = re.match(r"^data:([^;,]+);base64,(.*)$", url or "", re.S)
    if not match:
        raise AiError(5006, "Error: image_url.url must be a data URL holding the image in base64")
    return f"I see an {match[1]} image of {len(base64.b64decode(match[2]))} bytes."


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return json.dumps(content if content is not None else "", separators=(",", ":"))
    parts = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text":
            parts.append(part.get("text"))
        elif isinstance(part, dict) and part.get("type") == "image_url":
            parts.append(_describe_image((part.get("image_url") or {}).get("url")))
        else:
            parts.append(json.dumps(part, separators=(",", ":")))
    return " ".join(parts)


def _prompt_text(inputs: dict) -> str:
    if isinstance(inputs.get("prompt"), str):
        return inputs["prompt"]
    messages = inputs.get("messages") if isinstance(inputs.get("messages"), list) else []
    return "\n".join(f"{m.get('role')}: {_content_text(m.get('content'))}" for m in messages)


def _last_user_text(inputs: dict) -> str:
    if isinstance(inputs.get("prompt"), str):
        return inputs["prompt"]
    users = [m for m in inputs.get("messages") or [] if m.get("role") == "user"]
    return _content_text(users[-1].get("content") if users else "")


def _tokenize(text: str) -> list[str]:
    return re.findall(r"\s*\S+", text)


def _word_from(prompt: str) -> str:
    words = WORD.findall(prompt)
    return (next((w for w in words[1:] if w[0].isupper()), None)
            or next((w for w in words if len(w) > 2 and w.lower() not in STOP_WORDS), None) or "example")


def _arguments_for(schema: dict | None, prompt: str) -> Any:
    schema = schema or {}
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    types = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
    kind = next((t for t in types if t and t != "null"), None) or ("object" if schema.get("properties") else "string")
    if kind == "object":
        value = {name: _arguments_for(sub, prompt) for name, sub in (schema.get("properties") or {}).items()}
        for name in schema.get("required") or []:
            value.setdefault(name, _word_from(prompt))
        return value
    if kind == "array":
        return [_arguments_for(schema.get("items"), prompt) for _ in range(max(1, schema.get("minItems") or 1))]
    if kind in ("integer", "number"):
        step = 1 if kind == "integer" else 0.5
        low = schema.get("minimum", None if "exclusiveMinimum" not in schema else schema["exclusiveMinimum"] + step)
        high = schema.get("maximum", None if "exclusiveMaximum" not in schema else schema["exclusiveMaximum"] - step)
        value = min(1 if low is None else low, math.inf if high is None else high)
        return math.ceil(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    word = _word_from(prompt)
    word = word.ljust(schema.get("minLength") or 0, "x")
    return word[:schema["maxLength"]] if schema.get("maxLength") is not None else word


def _fnv1a(text: str, seed: int = 2166136261) -> int:
    value = seed
    for char in text:  # JavaScript hashes UTF-16 code units
        for code in ([ord(char)] if ord(char) < 0x10000 else _surrogates(ord(char))):
            value = ((value ^ code) * 16777619) & 0xFFFFFFFF
    return value


def _surrogates(point: int) -> list[int]:
    point -= 0x10000
    return [0xD800 + (point >> 10), 0xDC00 + (point & 0x3FF)]


def _tool_calls(model: str, inputs: dict) -> list[dict] | None:
    tools = [t.get("function", t) for t in inputs.get("tools") or [] if isinstance(t, dict)]
    tools = [t for t in tools if isinstance(t, dict) and t.get("name")]
    if not tools or model not in TOOL_SHAPES or inputs.get("tool_choice") == "none":
        return None
    messages = inputs.get("messages") or []
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    if any(m.get("role") == "tool" for m in messages[last_user + 1:]):
        return None
    prompt = _last_user_text(inputs)
    choice = inputs.get("tool_choice")
    named = ((choice.get("function") or {}).get("name")) if isinstance(choice, dict) else None
    chosen = [t for t in tools if t["name"] == named] if named else [t for t in tools if t["name"].lower() in prompt.lower()]
    chosen = chosen or tools[:1]
    if inputs.get("parallel_tool_calls") is False:
        chosen = chosen[:1]
    calls = []
    for index, tool in enumerate(chosen):
        args = _arguments_for(tool.get("parameters") or {}, prompt)
        digest = _fnv1a(f"{index}:{tool['name']}:{json.dumps(args, separators=(',', ':'))}:{prompt}")
        calls.append({"id": f"chatcmpl-tool-{digest:x}", "name": tool["name"], "args": args})
    return calls


def _shaped_calls(model: str, calls: list[dict]) -> list[dict]:
    if TOOL_SHAPES.get(model) == "flat":
        return [{"name": c["name"], "arguments": c["args"]} for c in calls]
    return [{"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["args"], separators=(",", ":"))}}
            for c in calls]


def _tool_call_events(calls: list[dict]) -> list[dict]:
    events = []
    for index, call in enumerate(calls):
        args = json.dumps(call["args"], separators=(",", ":"))
        half = math.ceil(len(args) / 2)
        events += [{"response": "", "tool_calls": [{"index": index, "id": call["id"], "type": "function", "function": {"name": call["name"]}}]},
                   {"response": "", "tool_calls": [{"index": index, "function": {"arguments": args[:half]}}]},
                   {"response": "", "tool_calls": [{"index": index, "function": {"arguments": args[half:]}}]},
                   {"response": "", "tool_calls": [{"id": None, "type": None, "function": {"name": None, "arguments": None}}]}]
    return events


def _requested_schema(inputs: dict) -> Any:
    for message in inputs.get("messages") or []:
        content = message.get("content")
        if message.get("role") == "system" and isinstance(content, str) and SCHEMA_MARKER in content:
            try:
                return json.loads(content[content.index(SCHEMA_MARKER) + len(SCHEMA_MARKER):])
            except ValueError:
                return None
    return None


def _example_for(schema: Any = None) -> Any:
    schema = schema or {}
    for name in ("const", "default"):
        if name in schema:
            return schema[name]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema["type"][0] if isinstance(schema.get("type"), list) else schema.get("type")
    kind = kind or ("object" if schema.get("properties") else "string")
    if kind == "object":
        props = schema.get("properties")
        return {name: _example_for(sub) for name, sub in props.items()} if props else {"answer": "example"}
    if kind == "array":
        return [_example_for(schema.get("items")) for _ in range(max(1, schema.get("minItems") or 1))]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    return {"boolean": True, "null": None}.get(kind, "example")


def _answer_start(inputs: dict) -> str | None:
    """The start of its answer a model is given to go on from (a last assistant message), if any."""
    last = (inputs.get("messages") or [{}])[-1]
    content = last.get("content")
    return content if last.get("role") == "assistant" and isinstance(content, str) and not last.get("tool_calls") else None


def _reply_tokens(model: str, inputs: dict) -> list[str]:
    start = _answer_start(inputs)
    asked = inputs if start is None else {**inputs, "messages": inputs["messages"][:-1]}
    text = _reply_text(model, asked)
    rest = text[len(start):] if start is not None and text.startswith(start) else text
    return _tokenize(rest)[:inputs.get("max_tokens") or DEFAULT_MAX_TOKENS]


def _reply_text(model: str, inputs: dict) -> str:
    schema = _requested_schema(inputs)
    messages = inputs.get("messages") or []
    results = None
    if messages and messages[-1].get("role") == "tool":
        last_other = max(i for i, m in enumerate([{"role": ""}, *messages]) if m.get("role") != "tool")
        results = "The tools answered: " + "; ".join(_content_text(m.get("content")) for m in messages[last_other:])
    if schema is not None:
        text = json.dumps(_example_for(schema), indent=1, ensure_ascii=False)
    else:
        text = f"{results or f'You said: {_last_user_text(inputs).strip()}'} (a deterministic reply from the local stand-in for {model})"
    return text


FILLER_WORDS = set(("can could would should may might shall i me my mine we us our they them their there "
                    "please some any so if than then also just").split())


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def embed(text: str, dimensions: int) -> list[float]:
    """Lexical hashing, as local/ai.mjs's: texts that share words (singular, stop and filler words
    left out) point the same way (cosine ranks by shared words)."""
    vector = [0.0] * dimensions
    words = [_stem(w) for w in WORD.findall(text.lower())
             if len(w) > 1 and w not in STOP_WORDS and w not in FILLER_WORDS] or [f"\u0000{text}"]
    for word in words:
        digest = _fnv1a(word)
        vector[digest % dimensions] += -1 if digest & 0x80000000 else 1
    norm = math.sqrt(sum(x * x for x in vector)) or 1
    return [x / norm for x in vector]


def _sse(payload: Any) -> Uint8Array:
    return Uint8Array(f"data: {payload if isinstance(payload, str) else json.dumps(payload, separators=(',', ':'))}\n\n".encode())


def _moderate(inputs: dict) -> dict:
    """Llama Guard's answer: in JSON mode {safe, categories}, else "safe" or "unsafe\nS1"."""
    if not isinstance(inputs.get("messages"), list) or not inputs["messages"]:
        raise AiError(5006, "Error: required properties at '/' are 'messages'")
    flagged = MODERATION_MARKER in _content_text(inputs["messages"][-1].get("content")).lower()
    verdict = {"safe": not flagged, "categories": ["S1"] if flagged else []}
    json_mode = (inputs.get("response_format") or {}).get("type") == "json_object"
    response = verdict if json_mode else ("unsafe\nS1" if flagged else "safe")
    return {"response": response, "usage": _usage(_count_tokens(_prompt_text(inputs)), 3 if flagged else 1)}


class AiRecorder:
    """The knobs and the calls, shared by every inference worker's AI binding (as the local
    host's recorder is): a failure can name the worker it is for."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.knobs = default_knobs()
        self.recorded: list[dict[str, Any]] = []

    def calls(self) -> list[dict[str, Any]]:
        """The calls made so far (as the local host's /__devhost/ai lists them)."""
        return list(self.recorded)

    def set(self, **knobs: Any) -> None:
        self.knobs.update(knobs)

    def fail_next(self, *failures: dict) -> None:
        self.set(failures=list(failures))

    def begin(self, worker: str, model: str, inputs: dict, gateway: dict | None = None) -> tuple[dict, dict | None]:
        """Records a call (with the AI Gateway it went through, if any) and says which failure it takes, if any."""
        options = {name: inputs[name] for name in SAMPLING_OPTIONS if name in inputs}
        if isinstance(inputs.get("tools"), list):
            options["tools"] = len(inputs["tools"])
        if "tool_choice" in inputs:
            options["tool_choice"] = inputs["tool_choice"]
        call = {"id": len(self.recorded) + 1, "model": model, "stream": bool(inputs.get("stream")), "worker": worker, "options": options,
                "gateway": gateway}
        self.recorded.append(call)
        failures = self.knobs["failures"]
        index = next((i for i, f in enumerate(failures) if not f.get("worker") or f["worker"] == worker), None)
        failure = None
        if index is not None and failures[index].get("skip", 0) > 0:
            failures[index]["skip"] -= 1
        elif index is not None:
            failure = failures.pop(index)
        if failure is None and worker in self.knobs["failingWorkers"]:
            failure = {"mode": "error", "code": 3040, "message": f"Capacity temporarily exceeded ({worker})"}
        return call, failure


class WorkersAI:
    """The AI binding of one inference worker (`worker`: its name, for failures aimed at it)."""

    def __init__(self, recorder: AiRecorder, worker: str) -> None:
        self.recorder = recorder
        self.worker = worker
        self.gateway_log_id: str | None = None  # as the binding's aiGatewayLogId: the last call's log

    @property
    def knobs(self) -> dict[str, Any]:
        return self.recorder.knobs

    async def run(self, model: str, inputs: dict, options: Any = None) -> Any:
        gateway = (options or {}).get("gateway")
        call, failure = self.recorder.begin(self.worker, model, inputs, gateway)
        self.gateway_log_id = f"standin-gateway-log-{call['id']}" if gateway else None
        if self.knobs["latencyMs"]:
            try:
                await asyncio.sleep(self.knobs["latencyMs"] / 1000)
            except asyncio.CancelledError:
                call.update(cancelled=True, reason="the caller stopped waiting")
                raise
        if failure and failure.get("mode") == "error":
            raise AiError(failure.get("code", 3040), failure.get("message", "Capacity temporarily exceeded, please try again."))
        if model in EMBEDDING_MODELS:
            texts = inputs.get("text") if isinstance(inputs.get("text"), list) else [inputs.get("text") or ""]
            return {"shape": [len(texts), EMBEDDING_MODELS[model]], "data": [embed(str(t), EMBEDDING_MODELS[model]) for t in texts],
                    "pooling": "mean"}
        if model == MODERATION_MODEL:
            return _moderate(inputs)
        if model not in TEXT_MODELS:
            raise AiError(5007, f"No such model {model} or task")
        if not isinstance(inputs.get("prompt"), str) and not isinstance(inputs.get("messages"), list):
            raise AiError(5006, "Error: required properties at '/' are 'prompt' or 'messages'")
        prompt_tokens = _count_tokens(_prompt_text(inputs))
        if inputs.get("response_format"):
            if inputs.get("stream"):
                raise AiError(5006, "JSON mode does not support streaming")
            schema = inputs["response_format"].get("json_schema") or {}
            value = _example_for(schema.get("schema", schema) if isinstance(schema, dict) else {})
            return {"response": value, "usage": _usage(prompt_tokens, _count_tokens(json.dumps(value, separators=(",", ":"))))}
        if inputs.get("stream") and inputs.get("tools") and TOOL_SHAPES.get(model) == "flat":
            raise AiError(5006, f"{model} does not stream tool calls: call it with stream false")
        calls = _tool_calls(model, inputs)
        if calls:
            completion = _count_tokens(json.dumps([[c["name"], c["args"]] for c in calls], separators=(",", ":")))
            if not inputs.get("stream"):
                return {"response": None if TOOL_SHAPES[model] == "flat" else "", "tool_calls": _shaped_calls(model, calls),
                        "usage": _usage(prompt_tokens, completion)}
            return self._stream(call, _tool_call_events(calls), prompt_tokens, completion, failure)
        tokens = _reply_tokens(model, inputs)
        if not inputs.get("stream"):
            return {"response": "".join(tokens), "usage": _usage(prompt_tokens, len(tokens))}
        events = [{"response": token, "p": "abcdefghij"[:index % 10]} for index, token in enumerate(tokens)]
        return self._stream(call, events, prompt_tokens, len(tokens), failure)

    async def run_vectors_json(self, model: str, inputs: dict, options: Any = None) -> str:  # as inference/store/runtime.py's adapter
        return json.dumps((await self.run(model, inputs, options))["data"], separators=(",", ":"))

    def _stream(self, call: dict, events: list[dict], prompt_tokens: int, completion_tokens: int, failure: dict | None) -> ReadableStream:
        """One event a pull, as the real binding's stream (high-water mark 0: nothing ahead of a read)."""
        fail_at = failure.get("afterTokens", 1) if failure and failure.get("mode") == "mid_stream" else math.inf
        stall_at = failure.get("afterTokens", 1) if failure and failure.get("mode") == "stall" else math.inf
        state = {"index": 0, "cancelled": False}
        woken = asyncio.Event()
        delay = self.knobs["tokenDelayMs"] / 1000

        async def pull(controller: Any) -> None:
            index = state["index"]
            if index > 0 and delay:
                await asyncio.sleep(delay)
            if index == stall_at:
                await woken.wait()
            if state["cancelled"]:
                return
            if index == fail_at:
                controller.error(AiError(failure.get("code", 3040), failure.get("message", "Model stream interrupted")))
                return
            if index < len(events):
                controller.enqueue(_sse(events[index]))
            else:
                controller.enqueue(_sse({"response": "", "usage": _usage(prompt_tokens, completion_tokens)}))
                controller.enqueue(_sse("[DONE]"))
                call["completed"] = True
                controller.close()
            state["index"] = index + 1

        def cancel(reason: Any) -> None:
            state["cancelled"] = True
            woken.set()
            call.update(cancelled=True, reason=str(reason))

        return ReadableStream(JsObject(pull=pull, cancel=cancel), JsObject(highWaterMark=0))
