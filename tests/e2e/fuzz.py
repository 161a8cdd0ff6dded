"""A seeded, property-based fuzzer (hypothesis) over every route and GraphQL: bodies that are
nearly right, wrong in type or shape, hostile (deep nesting, lone surrogates, huge numbers,
bytes that are not JSON), odd methods, headers and query strings.

The property, for every request: the answer is never an undeliberate 5xx (only 502, 503 and
504 with their error codes are deliberate), a 4xx carries the error shape (GraphQL's `errors`
on /graphql), and the host keeps serving. `make fuzz` runs it long (scripts/fuzz.py); a short
run is part of `make test` (tests/e2e/test_fuzz.py)."""

import json
from collections import Counter
from dataclasses import dataclass, field

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

MODELS = ["@cf/meta/llama-3.1-8b-instruct-fast", "llama-3.1-8b", "@cf/baai/bge-small-en-v1.5", "gpt-4", ""]
DELIBERATE_5XX = {502: "upstream_error", 503: "service_unavailable", 504: "upstream_timeout"}
TEXT_STREAMS = {"/stream/object"}

scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)
texts = st.sampled_from(["hello", "Tell me a story", "I love it", "", " ", "\u0000", "é" * 10, "x" * 5000]) | st.text(max_size=60)


ABSENT = object()


def maybe(value_strategy):
    """An optional field: present with a right value, or absent. Wrong values come from
    `mutated`, one at a time, so that most requests get past validation to the code behind it."""
    return st.one_of(value_strategy, value_strategy, st.just(ABSENT))


def body_of(**fields):
    return st.fixed_dictionaries(fields).map(lambda body: {k: v for k, v in body.items() if v is not ABSENT})


ui_message = body_of(id=st.text(max_size=8), role=st.sampled_from(["user", "assistant", "system"]),
                     parts=st.lists(body_of(type=st.sampled_from(["text", "text", "reasoning"]), text=texts), min_size=1, max_size=3))
generation_fields = {"model": maybe(st.sampled_from(MODELS[:2])), "system": maybe(texts),
                     "temperature": maybe(st.floats(0, 2) | st.integers(0, 2)),
                     "maxOutputTokens": maybe(st.integers(1, 4096))}
openai_message = body_of(role=st.sampled_from(["user", "system", "developer", "assistant"]),
                         content=texts | st.lists(body_of(type=st.just("text"), text=texts), max_size=2))
schemas = st.recursive(
    body_of(type=maybe(st.sampled_from(["object", "string", "number", "integer", "array", "decimal"])),
            minLength=maybe(st.integers(-3, 100)), maximum=maybe(st.integers(-5, 5)),
            enum=maybe(st.lists(scalars, min_size=1, max_size=3)), required=maybe(st.lists(st.text(max_size=5)))),
    lambda inner: st.fixed_dictionaries({"type": st.just("object"), "properties": st.dictionaries(st.text(max_size=6), inner, max_size=3)}),
    max_leaves=6)
event = body_of(id=maybe(st.text(min_size=1, max_size=12)), type=st.sampled_from(["click", "view", "error", "feedback"]),
                name=maybe(texts), component=maybe(st.sampled_from(["Button", "Chat"])), sessionId=maybe(st.text(max_size=20)),
                userId=maybe(st.text(max_size=20)),
                properties=maybe(st.dictionaries(st.sampled_from(["text", "page_url", "n", "feedback"]) | st.text(max_size=8),
                                                 json_values, max_size=4)))
GRAPHQL = [
    "{ models { id task } }", "{ usage { requests limits { tokensPerDay } } }", "{ apiKeys { id } }",
    "query($f: Int, $a: String) { events(first: $f, after: $a) { edges { node { type properties } } pageInfo { endCursor } } }",
    "query($r: TimeRange!, $b: Bucket, $m: Metric!) { eventMetrics(metric: $m, range: $r, bucket: $b) { totals { key value } } }",
    "mutation($e: [EventInput!]!) { trackEvents(events: $e) { accepted rejected { field } } }",
    "mutation { revokeApiKey(id: \"nope\") }", "{ __schema { types { name } } }", "{ nope }", "{", "query { models { id } } query { usage { day } }",
]
graphql_body = body_of(query=st.sampled_from(GRAPHQL),
                       variables=maybe(body_of(
                           f=maybe(st.integers(-5, 200)), a=maybe(st.sampled_from(["WzEsImEiXQ==", "zzz"])),
                           b=maybe(st.sampled_from(["HOUR", "DAY", "WEEK"])),
                           m=maybe(st.sampled_from(["EVENTS_BY_TYPE", "AI_LATENCY", "TOKENS_BY_MODEL", "NOPE"])),
                           e=maybe(st.lists(event, max_size=3)),
                           r=maybe(body_of(**{"from": maybe(st.sampled_from(["2026-11-01T00:00:00Z", "garbage"])),
                                              "to": maybe(st.sampled_from(["2026-11-30T00:00:00Z", "2020-01-01T00:00:00Z"]))})))),
                       operationName=maybe(texts))
hostile_raw = st.sampled_from([
    b"[" * 5000 + b"]" * 5000, b'{"a": "\\ud800"}', b"\xff\xfe", b"", b"null", b"1e999999", b'{"events": ' + b"[" * 40 + b"]" * 40 + b"}",
    b'{"messages": [{"id": "1", "role": "user", "parts": [{"type": "text", "text": "\\udfff"}]}]}', b"{" * 100_000,
]) | st.binary(max_size=200)

ROUTES = {
    ("POST", "/stream/chat"): body_of(messages=st.lists(ui_message, min_size=1, max_size=3), id=maybe(texts), trigger=maybe(texts),
                                       **generation_fields),
    ("POST", "/stream/completion"): body_of(prompt=texts, **generation_fields),
    ("POST", "/stream/object"): st.one_of(body_of(prompt=texts, schema=schemas, **generation_fields),
                                          body_of(prompt=texts, schemaName=st.just("sentiment"), **generation_fields)),
    ("POST", "/v1/chat/completions"): body_of(model=st.sampled_from(MODELS[:2]), messages=st.lists(openai_message, min_size=1, max_size=3),
                                               stream=maybe(st.booleans()), max_tokens=maybe(st.integers(1, 4096)),
                                               response_format=maybe(st.one_of(
                                                   body_of(type=st.just("json_schema"), json_schema=body_of(name=texts, schema=schemas)),
                                                   body_of(type=st.sampled_from(["json_object", "text"])))),
                                               stream_options=maybe(body_of(include_usage=st.booleans()))),
    ("POST", "/v1/embeddings"): body_of(model=st.just(MODELS[2]), input=texts | st.lists(texts, min_size=1, max_size=4),
                                         encoding_format=maybe(st.sampled_from(["float", "base64"]))),
    ("POST", "/events"): body_of(events=st.lists(event, min_size=1, max_size=6)) | st.lists(event, min_size=1, max_size=4),
    ("POST", "/graphql"): graphql_body,
}
GETS = ["/health", "/v1/models", "/v1/usage", "/graphql", "/nope", "/stream/chat", "/events?x=1", "/v1/models?limit=-1"]


@st.composite
def mutated(draw, body):
    """The body with one value, at any depth, replaced by any JSON value or removed."""
    paths, stack = [], [((), body)]
    while stack:
        path, value = stack.pop()
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in children:
            paths.append((*path, key))
            stack.append(((*path, key), child))
    if not paths:
        return draw(json_values)
    *parents, last = draw(st.sampled_from(paths))
    target = body
    for key in parents:
        target = target[key]
    if isinstance(target, dict) and draw(st.booleans()):
        del target[last]
    else:
        target[last] = draw(json_values)
    return body


@st.composite
def requests_(draw):
    kind = draw(st.sampled_from(["body", "body", "body", "raw", "get", "method"]))
    if kind == "get":
        return ("GET", draw(st.sampled_from(GETS)), None, {})
    (method, path) = draw(st.sampled_from(sorted(ROUTES)))
    if kind == "method":
        return (draw(st.sampled_from(["PUT", "DELETE", "PATCH", "GET"])), path, b"{}", {"content-type": "application/json"})
    content_type = draw(st.sampled_from(["application/json"] * 6 + ["text/plain", "application/x-www-form-urlencoded"]))
    if kind == "raw":
        return (method, path, draw(hostile_raw), {"content-type": content_type})
    body = draw(ROUTES[(method, path)])
    if draw(st.integers(0, 9)) < 4:
        body = draw(mutated(body))
    raw = json.dumps(body, allow_nan=False).encode()
    return (method, path, raw, {"content-type": content_type})


@dataclass
class Findings:
    statuses: Counter = field(default_factory=Counter)
    undeliberate: list[str] = field(default_factory=list)  # 5xx that are not 502/503/504 with their codes
    bad_shape: list[str] = field(default_factory=list)  # 4xx without the error shape
    # A plain-text stream (useObject's) has no error event: its failures end the body abnormally,
    # by design; when the answer failed at once, workerd may close before the head is sent.
    aborted_text_streams: list[str] = field(default_factory=list)

    def check(self, method: str, path: str, raw: bytes | None, response: httpx.Response) -> None:
        status = response.status_code
        self.statuses[status] += 1
        what = f"{method} {path} {raw[:200] if raw else b''!r} -> {status} {response.text[:300]}"
        body = _json(response)
        code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
        if status >= 500 and DELIBERATE_5XX.get(status) != code:
            self.undeliberate.append(what)
        elif 400 <= status < 500:
            graphql_errors = path == "/graphql" and isinstance(body, dict) and body.get("errors")
            if not (code and (body["error"].get("message")) or graphql_errors):
                self.bad_shape.append(what)


def _json(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


def fuzz(client: httpx.Client, examples: int, seed_value: int) -> Findings:
    findings = Findings()

    @seed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(requests_())
    def one(request):
        method, path, raw, headers = request
        try:
            with client.stream(method, path, content=raw, headers=headers) as response:
                response.read()  # streams too: a body that fails mid-way is read to its end
        except httpx.TransportError as exc:
            if path not in TEXT_STREAMS:
                raise
            findings.statuses["aborted"] += 1
            findings.aborted_text_streams.append(f"{method} {path} {raw[:200] if raw else b''!r}: {exc}")
            return
        findings.check(method, path, raw, response)

    one()
    return findings
