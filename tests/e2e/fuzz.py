"""A seeded, property-based fuzzer (hypothesis) over every route and GraphQL: bodies that are
nearly right, wrong in type or shape, hostile (deep nesting, lone surrogates, huge numbers,
bytes that are not JSON or not UTF-8), every method (routed or not), credentials of every
malformed kind (JWTs whose parts are deep, huge or not JSON; odd schemes; x-api-key variants),
GraphQL cursors this API never gave out, headers and query strings.

The property, for every request: the answer is never an undeliberate 5xx (only 501, 502, 503
and 504 with their error codes are deliberate) nor a traceback, a 4xx carries the error shape
(GraphQL's `errors` on /graphql), and the runtime never restarts (the caller counts restarts in
the host's log: scripts/localhost.py). `make fuzz` runs it long (scripts/fuzz.py); a short run is
part of `make test` (tests/e2e/test_fuzz.py)."""

import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from api.routes import router

MODELS = ["@cf/meta/llama-3.1-8b-instruct-fast", "llama-3.1-8b", "@cf/baai/bge-small-en-v1.5", "gpt-4", ""]
DELIBERATE_5XX = {501: "not_implemented", 502: "upstream_error", 503: "service_unavailable", 504: "upstream_timeout"}
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


stop_sequences = st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4)
TOOL_NAMES = ["get_weather", "lookup", "x"]
tool_names = st.sampled_from(TOOL_NAMES) | st.text(min_size=1, max_size=8)
tool_parameters = st.one_of(
    st.just({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    st.just({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 5}, "unit": {"enum": ["c", "f"]}}}),
    st.just({"type": "object"}))
tool = body_of(type=st.just("function"), function=body_of(name=tool_names, description=maybe(texts), parameters=maybe(tool_parameters)))
tool_choice = st.sampled_from(["auto", "none", "required"]) | body_of(type=st.just("function"), function=body_of(name=tool_names))
call_ids = st.sampled_from(["call_1", "call_2"]) | st.text(min_size=1, max_size=8)
tool_call = body_of(id=call_ids, type=st.just("function"), function=body_of(name=tool_names, arguments=st.sampled_from(
    ['{"city": "Paris"}', "{}", "not json", '{"n": 99}']) | st.text(max_size=12)))
# A 1x1 PNG, and images a vision model must refuse: another type, bytes that lie about their type.
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
image_urls = st.sampled_from([PNG, "data:image/png;base64,AAAA", "data:text/plain;base64,aGk=", "data:image/gif;base64,%%%",
                              "http://127.0.0.1:9/x.png", "ftp://example.com/x.png", ""])
ui_tool_part = body_of(type=st.sampled_from([f"tool-{name}" for name in TOOL_NAMES] + ["dynamic-tool"]), toolName=maybe(tool_names),
                       toolCallId=call_ids, state=st.sampled_from(["output-available", "output-error", "input-available", "input-streaming"]),
                       input=maybe(json_values), output=maybe(json_values), errorText=maybe(texts))
ui_part = st.one_of(
    body_of(type=st.sampled_from(["text", "text", "reasoning", "step-start"]), text=texts),
    body_of(type=st.just("file"), mediaType=st.sampled_from(["image/png", "application/pdf", "image/webp"]), url=image_urls),
    ui_tool_part)
ui_message = st.one_of(
    body_of(id=st.text(max_size=8), role=st.sampled_from(["user", "assistant", "system"]), parts=st.lists(ui_part, min_size=1, max_size=3)),
    body_of(role=st.sampled_from(["user", "assistant", "system"]), content=texts))  # older clients' form
TOOL_MODELS = ["@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/meta/llama-4-scout-17b-16e-instruct", "mistral-small-3.1"]
generation_fields = {"model": maybe(st.sampled_from(MODELS[:2] + TOOL_MODELS)), "system": maybe(texts),
                     "temperature": maybe(st.floats(0, 2) | st.integers(0, 2)),
                     "maxOutputTokens": maybe(st.integers(1, 4096)), "topP": maybe(st.floats(0.01, 1)),
                     "seed": maybe(st.integers(1, 10**6)), "stopSequences": maybe(stop_sequences)}
openai_part = st.one_of(body_of(type=st.just("text"), text=texts),
                        body_of(type=st.just("image_url"), image_url=body_of(url=image_urls, detail=maybe(st.sampled_from(["auto", "low"])))))
openai_message = st.one_of(
    body_of(role=st.sampled_from(["user", "system", "developer", "assistant"]), content=texts | st.lists(openai_part, max_size=2)),
    body_of(role=st.just("assistant"), content=maybe(st.none() | texts), tool_calls=st.lists(tool_call, min_size=1, max_size=2)),
    body_of(role=st.just("tool"), tool_call_id=call_ids, content=texts))
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
# A GET's query string: the same queries, their variables as JSON text (or text that is not
# within the reader's budget), and any Accept (a browser's is sent to GraphiQL's page).
graphql_get = st.builds(
    lambda body, variables, accept: (f"/graphql?{urlencode({**body, 'variables': variables} if variables else body)}", accept),
    body_of(query=st.sampled_from(GRAPHQL), operationName=maybe(texts)),
    st.one_of(st.none(), graphql_body.map(lambda body: json.dumps(body.get("variables"))),
              st.sampled_from(["{", "[1]", "null", "[" * 40 + "]" * 40, '{"f": "\\ud800"}'])),
    st.sampled_from(["application/json", "application/graphql-response+json", "*/*", "text/html", "text/plain;q=0"]))
hostile_raw = st.sampled_from([
    b"[" * 5000 + b"]" * 5000, b'{"a": "\\ud800"}', b"\xff\xfe", b"", b"null", b"1e999999", b'{"events": ' + b"[" * 40 + b"]" * 40 + b"}",
    b'{"messages": [{"id": "1", "role": "user", "parts": [{"type": "text", "text": "\\udfff"}]}]}', b"{" * 100_000,
]) | st.binary(max_size=200)

# Methods: every one a route takes, others HTTP servers pass on to the worker (405 or 501 in the
# error shape), and some workerd refuses itself (FOO: its plain-text 501, before any worker).
# CONNECT is left out: workerd hands it to a connect() handler, which a Python Worker cannot export.
METHODS = [*router.implemented_methods(), "PUT", "PATCH", "TRACE", "QUERY", "PURGE", "PROPFIND", "MKCOL", "LOCK",
           "SEARCH", "REPORT", "M-SEARCH", "FOO"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def nested(depth: int, kind: str) -> bytes:
    return b"[" * depth + b"]" * depth if kind == "array" else b'{"a":' * depth + b"1" + b"}" * depth


# JSON texts a parser may choke on: nested past any budget, huge, not JSON, not UTF-8.
deep_json = st.builds(nested, st.sampled_from([2, 40, 1000, 5000, 20_000]), st.sampled_from(["array", "object"]))
hostile_json = deep_json | st.sampled_from([
    b"9" * 5000, b"1e999999", b"null", b"[]", b'"x"', b"{", b"", b"\xff\xfe", b'{"a":"\\ud800"}', b"\xed\xa0\x80",
]) | st.binary(max_size=64)
HS256_HEADER = b'{"alg":"HS256","typ":"JWT"}'


def signed_jwt(header: bytes, claims: bytes, secret: str) -> str:
    """A JWT whose signature verifies with `secret`, whatever its parts hold."""
    signing_input = f"{b64url(header)}.{b64url(claims)}"
    return f"{signing_input}.{b64url(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())}"


def claims_values(expires: int):
    """Claims that would verify but for one of them: a wrong type, a huge number, a deep value."""
    right = {"tier": "pro", "sub": "user-1", "exp": expires, "nbf": 0}
    wrong = st.sampled_from([["pro"], {"tier": "pro"}, None, True, [], {}, 10**30, -1, 1e308, "", "x" * 10_000]).map(
        lambda value: json.dumps(value).encode()) | deep_json

    def with_wrong(name_and_value: tuple[str, bytes]) -> bytes:
        name, value = name_and_value
        others = json.dumps({key: item for key, item in right.items() if key != name}).encode()
        return others[:-1] + b', "' + name.encode() + b'": ' + value + b"}"

    return st.tuples(st.sampled_from([*right, "aud"]), wrong).map(with_wrong)


@st.composite
def tokens(draw, jwt_secret: str | None, expires: int):
    kind = draw(st.sampled_from(["signed", "unsigned", "malformed"] if jwt_secret else ["unsigned", "malformed"]))
    if kind == "unsigned":
        header = draw(st.just(HS256_HEADER) | hostile_json)
        return f"{b64url(header)}.{b64url(draw(hostile_json))}.{b64url(draw(st.binary(max_size=32)))}"
    if kind == "signed":
        header = draw(st.sampled_from([HS256_HEADER, HS256_HEADER, b'{"alg":"none"}']) | deep_json)
        return signed_jwt(header, draw(claims_values(expires) | hostile_json), jwt_secret)
    return draw(st.sampled_from(["a.b", "a.b.c.d", "..", "...", "!!!.@@@.###", "A" * 16_000, "a.b." + "c" * 16_000,
                                 "iui_", "iui_abcdefgh_", "iui_abcdefgh_" + "x" * 43, "iui_" + "_" * 60])
                | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80))


@st.composite
def credentials(draw, jwt_secret: str | None, expires: int) -> dict[str, bytes | str]:
    """An Authorization or x-api-key header, each malformed in its own way."""
    token = draw(tokens(jwt_secret, expires))
    # Header values are bytes outside of controls (which no client can send): Latin-1 included.
    raw_value = st.binary(max_size=100).map(lambda b: bytes(c for c in b if c >= 0x20 and c != 0x7F).strip())
    header = draw(st.sampled_from(["authorization", "authorization", "x-api-key"]))
    if header == "x-api-key":
        # The session's Authorization would win: it is sent empty.
        value = draw(st.just(token) | raw_value | st.sampled_from(["", "Bearer " + token]))
        # HTTP trims a value's ends (a client may not send them), as below.
        return {"authorization": "", "x-api-key": value.strip()}
    # Mostly the right scheme, so that the token itself is what the server reads.
    scheme = draw(st.just("Bearer ") | st.just("Bearer ") | st.sampled_from(["bearer ", "BEARER ", "Bearer  ", "Bearer\t", "Basic ",
                                                                             "Token ", "", "Bearer"]))
    # HTTP trims a value's ends (a client may not send them): what is left is what a server sees.
    return {"authorization": draw(st.just(scheme + token) | raw_value.map(lambda value: b"Bearer " + value)).strip()}


# `after` cursors this API never gave out: deep, huge, the wrong shape, not base64, not UTF-8.
cursor_texts = deep_json | st.sampled_from([
    b"[1,null]", b'[100000000000000000000000000000,"x"]', b'[1e308,"x"]', b'[-1,"x"]', b"{}", b"[]", b"[1]", b'[1,"x",3]',
    b'"x"', b"null", b"[true,false]", b'[1,"\\ud800"]', b"\xff\xfe", b'[1,"\xed\xa0\x80"]',
]) | st.builds(lambda ts, event_id: json.dumps([ts, event_id]).encode(), st.integers(-2**80, 2**80) | st.floats(), st.text(max_size=20))
cursors = cursor_texts.map(lambda text: base64.urlsafe_b64encode(text).decode()) | st.sampled_from(
    ["", "=", "zzz", "!!!!", "A" * 10_000, base64.b64encode(b"[1,\"a?b\"]").decode()])
EVENTS_QUERY = "query($f: Int, $a: String) { events(first: $f, after: $a) { edges { cursor } pageInfo { endCursor } } }"
# Bytes no UTF-8 decoder should let through: lone surrogates (\xed\xa0\x80), invalid and overlong
# sequences, NULs, a code point past U+10FFFF, a BOM.
HOSTILE_BYTES = [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xff", b"\xc3\x28", b"\xc0\x80", b"\x00", b"\xf4\x90\x80\x80",
                 b"\xef\xbb\xbf", b"\xe2\x82"]


@st.composite
def spliced(draw, body_strategy) -> bytes:
    """A right body's JSON with hostile bytes put in at the start of a string value, mostly (where
    they reach the code behind validation), else after any quote."""
    raw = json.dumps(draw(body_strategy), allow_nan=False).encode()
    values = [at + 4 for at in range(len(raw)) if raw.startswith(b'": "', at)]
    quotes = [at + 1 for at, byte in enumerate(raw) if byte == ord('"')] or [0]
    at = draw(st.sampled_from(values if values and draw(st.integers(0, 2)) else quotes))
    return raw[:at] + draw(st.sampled_from(HOSTILE_BYTES)) * draw(st.integers(1, 3)) + raw[at:]


ROUTES = {
    ("POST", "/stream/chat"): body_of(messages=st.lists(ui_message, min_size=1, max_size=3), id=maybe(texts), trigger=maybe(texts),
                                       tools=st.one_of(st.just(ABSENT), st.lists(tool, max_size=2)),
                                       toolChoice=maybe(st.sampled_from(["auto", "none", "required"])), **generation_fields),
    ("POST", "/stream/completion"): body_of(prompt=texts, **generation_fields),
    ("POST", "/stream/object"): st.one_of(body_of(prompt=texts, schema=schemas, **generation_fields),
                                          body_of(prompt=texts, schemaName=st.just("sentiment"), **generation_fields)),
    ("POST", "/v1/chat/completions"): body_of(model=st.sampled_from(MODELS[:2] + TOOL_MODELS),
                                               messages=st.lists(openai_message, min_size=1, max_size=3),
                                               stream=maybe(st.booleans()), max_tokens=maybe(st.integers(1, 4096)),
                                               response_format=maybe(st.one_of(
                                                   body_of(type=st.just("json_schema"), json_schema=body_of(name=texts, schema=schemas)),
                                                   body_of(type=st.sampled_from(["json_object", "text"])))),
                                               stream_options=maybe(body_of(include_usage=st.booleans())),
                                               seed=maybe(st.integers(1, 10**6)), top_p=maybe(st.floats(0.01, 1)),
                                               stop=maybe(st.text(min_size=1, max_size=5) | stop_sequences),
                                               frequency_penalty=maybe(st.floats(-2, 2)), user=maybe(texts),
                                               tools=st.one_of(st.just(ABSENT), st.lists(tool, max_size=2)),
                                               tool_choice=maybe(tool_choice), parallel_tool_calls=maybe(st.booleans())),
    ("POST", "/v1/completions"): body_of(model=st.sampled_from(MODELS[:2]), prompt=texts | st.lists(texts, min_size=1, max_size=2),
                                          stream=maybe(st.booleans()), max_tokens=maybe(st.integers(1, 4096)),
                                          stream_options=maybe(body_of(include_usage=st.booleans())), seed=maybe(st.integers(1, 10**6)),
                                          stop=maybe(st.text(min_size=1, max_size=5) | stop_sequences), echo=maybe(st.booleans()),
                                          n=maybe(st.integers(1, 2)), user=maybe(texts)),
    ("POST", "/v1/embeddings"): body_of(model=st.just(MODELS[2]), input=texts | st.lists(texts, min_size=1, max_size=4),
                                         encoding_format=maybe(st.sampled_from(["float", "base64"]))),
    ("POST", "/events"): body_of(events=st.lists(event, min_size=1, max_size=6)) | st.lists(event, min_size=1, max_size=4),
    ("POST", "/graphql"): graphql_body,
}
GETS = ["/health", "/v1/models", "/v1/usage", "/graphql", "/nope", "/stream/chat", "/events?x=1", "/v1/models?limit=-1",
        "/openapi.json", f"/v1/models/{MODELS[0]}", "/v1/models/%40cf%2Fmeta%2Fnope", "/v1/models/llama-3.1-8b/"]


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
def requests_(draw, jwt_secret: str | None, expires: int):
    kind = draw(st.sampled_from(["body", "body", "body", "raw", "get", "method", "credentials", "credentials", "cursor", "bytes"]))
    if kind == "get":
        if draw(st.booleans()):
            path, accept = draw(graphql_get)
            return ("GET", path, None, {"accept": accept})
        return ("GET", draw(st.sampled_from(GETS)), None, {})
    if kind == "cursor":
        body = {"query": EVENTS_QUERY, "variables": {"f": draw(st.integers(1, 5)), "a": draw(cursors)}}
        return ("POST", "/graphql", json.dumps(body).encode(), {"content-type": "application/json"})
    (method, path) = draw(st.sampled_from(sorted(ROUTES)))
    if kind == "method":
        return (draw(st.sampled_from(METHODS)), draw(st.sampled_from([path, *GETS])), b"{}", {"content-type": "application/json"})
    content_type = draw(st.sampled_from(["application/json"] * 6 + ["text/plain", "application/x-www-form-urlencoded"]))
    if kind == "raw":
        return (method, path, draw(hostile_raw), {"content-type": content_type})
    if kind == "bytes":
        return (method, path, draw(spliced(ROUTES[(method, path)])), {"content-type": "application/json"})
    if kind == "credentials":
        method, path = draw(st.sampled_from([("GET", "/v1/models"), ("GET", "/v1/usage"), ("POST", "/events"), ("POST", "/graphql")]))
        body = json.dumps(draw(ROUTES[(method, path)])).encode() if method == "POST" else None
        return (method, path, body, {"content-type": "application/json", **draw(credentials(jwt_secret, expires))})
    body = draw(ROUTES[(method, path)])
    if draw(st.integers(0, 9)) < 4:
        body = draw(mutated(body))
    raw = json.dumps(body, allow_nan=False).encode()
    return (method, path, raw, {"content-type": content_type})


@dataclass
class Findings:
    statuses: Counter = field(default_factory=Counter)
    undeliberate: list[str] = field(default_factory=list)  # 5xx that are not 501-504 with their codes
    bad_shape: list[str] = field(default_factory=list)  # 4xx without the error shape
    tracebacks: list[str] = field(default_factory=list)  # answers that show a Python traceback
    # Requests whose connection dropped before an answer (a runtime that died under them).
    dropped: list[str] = field(default_factory=list)
    # Malformed requests the HTTP server refused itself, before any worker (workerd's plain 501
    # for a method it does not know, 431 for headers too large): not the worker's to shape.
    refused_by_server: list[str] = field(default_factory=list)
    # A plain-text stream (useObject's) has no error event: its failures end the body abnormally,
    # by design; when the answer failed at once, workerd may close before the head is sent.
    aborted_text_streams: list[str] = field(default_factory=list)

    def check(self, method: str, path: str, raw: bytes | None, headers: dict, response: httpx.Response) -> None:
        status = response.status_code
        self.statuses[status] += 1
        what = describe(method, path, raw, headers) + f" -> {status} {response.text[:300]}"
        if "Traceback" in response.text or 'File "' in response.text:
            self.tracebacks.append(what)
        # Every answer of the api worker carries the security headers (api/app.py).
        if "x-content-type-options" not in response.headers and (status < 500 or status == 501):
            self.refused_by_server.append(what)
            return
        body = _json(response)
        code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
        if status >= 500 and DELIBERATE_5XX.get(status) != code:
            self.undeliberate.append(what)
        elif 400 <= status < 500 and method != "HEAD":  # a HEAD answer has no body to shape
            graphql_errors = urlsplit(path).path == "/graphql" and isinstance(body, dict) and body.get("errors")
            if not (code and (body["error"].get("message")) or graphql_errors):
                self.bad_shape.append(what)

    @property
    def failures(self) -> dict[str, list[str]]:
        return {"undeliberate 5xx": self.undeliberate, "4xx without the error shape": self.bad_shape,
                "answers with a traceback": self.tracebacks, "connections dropped": self.dropped}


def describe(method: str, path: str, raw: bytes | None, headers: dict) -> str:
    credentials = {name: value[:120] for name, value in headers.items() if name in ("authorization", "x-api-key")}
    return f"{method} {path} {raw[:200] if raw else b''!r}" + (f" {credentials}" if credentials else "")


def _json(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _wait_until_serving(client: httpx.Client, seconds: float = 120) -> None:
    """After a dropped connection: the runtime may be restarting; the next request waits for it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)


def fuzz(client: httpx.Client, examples: int, seed_value: int, jwt_secret: str | None = None) -> Findings:
    """`examples` seeded requests through `client`; with `jwt_secret`, JWTs whose signature
    verifies carry hostile claims too."""
    findings = Findings()
    # Signed tokens expire an hour after the run starts (their expiry is in range, not their other claims).
    expires = int(time.time()) + 3600

    @seed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(requests_(jwt_secret, expires))
    def one(request):
        method, path, raw, headers = request
        try:
            with client.stream(method, path, content=raw, headers=headers) as response:
                response.read()  # streams too: a body that fails mid-way is read to its end
        except httpx.LocalProtocolError:
            raise  # the fuzzer made a request no client can send: its bug, not the server's
        except httpx.TransportError as exc:
            findings.statuses["aborted"] += 1
            if path in TEXT_STREAMS:
                findings.aborted_text_streams.append(f"{describe(method, path, raw, headers)}: {exc}")
                return
            findings.dropped.append(f"{describe(method, path, raw, headers)}: {type(exc).__name__} {exc}")
            _wait_until_serving(client)
            return
        findings.check(method, path, raw, headers, response)

    one()
    return findings
