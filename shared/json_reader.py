"""The one JSON reader: every JSON text the project parses (a request body, a token's parts, a
cursor, an RPC argument or answer, a stored row, a KV value, a queue message, a model's or a
provider's answer, a settings var) passes a size budget, a nesting budget and a Unicode check
here before any recursive parser sees it. A unit test (tests/unit/test_json_reader.py) fails on
any `json.loads` or `validate_json` elsewhere.

Why a nesting budget: `json.loads` recurses once per level, and a few thousand levels (a 10 KB
text of brackets) overflow Pyodide's stack and kill the isolate, with every request in flight in
it; dozens of levels already exceed what crosses the service binding. The depth is measured on the
document's bracket skeleton (strings removed) with a few C-speed passes (split or regular
expressions, translate), so the check never recurses.

Why a Unicode check: bytes that are not UTF-8 (a surrogate's own bytes, `\\xed\\xa0\\x80`, which
`json.loads` lets through) or a JSON escape that spells a lone surrogate ("\\ud800") give a valid
Python str that cannot be encoded to UTF-8: storage and the RPC boundary would fail on it later,
as a 5xx the client cannot fix by retrying.

`parse_json` and `parse_json_as` (and `parse_internal`/`parse_internal_as`, with the budget of
the project's own texts) raise `JsonRefused` (a ValueError) naming the text's field, for their
caller to map to its own answer; `read_json` is the request body's, a 4xx ApiError.
"""

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from shared.errors import ApiError, ErrorCode
from shared.limits import MAX_BODY_BYTES, MAX_INTERNAL_JSON_BYTES, MAX_INTERNAL_JSON_DEPTH, MAX_JSON_DEPTH

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

Parsed = TypeVar("Parsed")


class JsonRefused(ValueError):
    """A JSON text outside its budget, or not JSON: what is wrong, the field it was read for, and
    the limit it passed (None when it is simply not valid JSON or not valid Unicode)."""

    def __init__(self, message: str, *, field: str, limit: int | None = None, too_large: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.limit = limit
        self.too_large = too_large

    def api_error(self) -> ApiError:
        code = ErrorCode.PAYLOAD_TOO_LARGE if self.too_large else ErrorCode.INVALID_REQUEST
        details = {"field": self.field} if self.limit is None else {"field": self.field, "limit": self.limit}
        return ApiError(code, str(self), **details)


def nested_deeper_than(raw: bytes, limit: int) -> bool:
    # No more openers than the limit (a small text, a stream's event): not deeper, in two passes.
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    # Strings hold no structure. Without a backslash no quote is escaped, so every other piece
    # between quotes is a string (the usual body: a split, 3x faster than the regex).
    outside = b"".join(raw.split(b'"')[0::2]) if b"\\" not in raw else _STRING.sub(b"", raw)
    skeleton = outside.translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        skeleton, removed = _INNERMOST_PAIR.subn(b"", skeleton)
        if not removed:
            break
    # Pairs left after `limit` peels: deeper. Unmatched brackets left: not JSON, but json.loads
    # recurses into every one still open before it says so (`[` x 5000 then `"a"` overflowed).
    return _INNERMOST_PAIR.search(skeleton) is not None or skeleton.count(b"[") + skeleton.count(b"{") > limit


def _printable(key: Any) -> str:
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


def _first_unencodable(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where a string that UTF-8 cannot encode sits (a key or a value), or None; the path's
    parts are printable (a bad key is named with its surrogate escaped)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        where = (*path, _printable(key))
        found = _first_unencodable(key, where) if isinstance(key, str) else None
        found = found or _first_unencodable(item, where)
        if found is not None:
            return found
    return None


def _within_budget(text: str | bytes, max_bytes: int, max_depth: int, field: str) -> bytes:
    """The text as UTF-8 bytes, once its size and nesting are within budget."""
    if isinstance(text, str):
        if len(text) > max_bytes:  # a str's characters are at most its bytes: a huge one is not encoded
            raise JsonRefused(f"{field}: over {max_bytes} bytes", field=field, limit=max_bytes, too_large=True)
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JsonRefused(f"{field}: text must be valid Unicode (a lone surrogate at character {exc.start})",
                              field=field) from None
    else:
        raw = bytes(text)
    if len(raw) > max_bytes:
        raise JsonRefused(f"{field}: {len(raw)} bytes; the limit is {max_bytes}", field=field, limit=max_bytes, too_large=True)
    if nested_deeper_than(raw, max_depth):
        raise JsonRefused(f"{field}: nests deeper than {max_depth} levels of arrays and objects", field=field, limit=max_depth)
    return raw


def parse_json(text: str | bytes, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH, field: str = "body") -> Any:
    """The JSON value of `text`, or JsonRefused: too large, nested too deep, not UTF-8, a lone
    surrogate escape (named where it is), or not JSON."""
    raw = _within_budget(text, max_bytes, max_depth, field)
    try:
        decoded = raw.decode("utf-8")  # strict: json.loads itself lets a surrogate's bytes through
    except UnicodeDecodeError as exc:
        raise JsonRefused(f"{field}: not UTF-8 text ({exc.reason} at byte {exc.start})", field=field) from None
    try:
        value = json.loads(decoded)
    except ValueError as exc:
        raise JsonRefused(f"{field}: not valid JSON: {exc}", field=field) from None
    if _SURROGATE_ESCAPE.search(raw) and (path := _first_unencodable(value)) is not None:
        # A body's fields are named from its root, as every other error about a body names them.
        where = ".".join(path) if field == "body" and path else ".".join((field, *path))
        raise JsonRefused(f"{where}: text must be valid Unicode (a lone surrogate escape was sent)", field=where)
    return value


def parse_json_as(schema: type[Parsed] | TypeAdapter[Parsed], text: str | bytes, *, max_bytes: int,
                  max_depth: int = MAX_JSON_DEPTH, field: str = "body") -> Parsed:
    """`text` validated as `schema` (a pydantic model or a TypeAdapter) straight from the JSON
    text by pydantic-core, in one pass, once it is within budget: JsonRefused, or pydantic's
    ValidationError (which checks UTF-8 and refuses lone surrogates itself)."""
    raw = _within_budget(text, max_bytes, max_depth, field)
    if isinstance(schema, TypeAdapter):
        return schema.validate_json(raw)
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_validate_json(raw)
    raise TypeError(f"not a pydantic model or TypeAdapter: {schema!r}")


def parse_var_as(schema: type[Parsed] | TypeAdapter[Parsed], text: str, var: str, error: type[ValueError]) -> Parsed:
    """A var that holds JSON (a deployment's configuration), read as `schema` under the body's
    budget; `error` naming the var when it is not such JSON."""
    try:
        return parse_json_as(schema, text, max_bytes=MAX_BODY_BYTES, field=var)
    except ValueError as exc:
        raise error(f"{var}: {exc}") from None


def parse_internal(text: str | bytes, *, field: str) -> Any:
    """`parse_json` of a text the project wrote itself (an RPC argument or answer, a stored row, a
    KV value, a queue message) or one of its backends answered (a binding, a model provider),
    under the budget of what one RPC call can carry."""
    return parse_json(text, max_bytes=MAX_INTERNAL_JSON_BYTES, max_depth=MAX_INTERNAL_JSON_DEPTH, field=field)


def parse_internal_as(schema: type[Parsed] | TypeAdapter[Parsed], text: str | bytes, *, field: str) -> Parsed:
    """`parse_json_as` of a text the project wrote itself, under the same budget as `parse_internal`."""
    return parse_json_as(schema, text, max_bytes=MAX_INTERNAL_JSON_BYTES, max_depth=MAX_INTERNAL_JSON_DEPTH, field=field)


def read_json(raw: bytes, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A request body's JSON value, or the 4xx (413 too large, 400 otherwise) naming the field and the limit."""
    try:
        return parse_json(raw, max_bytes=max_bytes, max_depth=max_depth, field="body")
    except JsonRefused as refused:
        raise refused.api_error() from None
