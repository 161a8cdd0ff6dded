"""The one JSON reader for request bodies: a size budget, a nesting budget and proper Unicode,
checked before and right after `json.loads`, each refusal a 4xx naming its limit.

Why a nesting budget: `json.loads` recurses once per level, and a few thousand levels (a 10 KB
body of brackets) overflow Pyodide's stack and kill the isolate, with every request in flight in
it; dozens of levels already exceed what crosses the service binding. The depth is measured on the
document's bracket skeleton (strings removed) with a few C-speed passes (split or regular
expressions, translate), so the check never recurses.

Why a Unicode check: a JSON escape can spell a lone surrogate ("\\ud800"), which is a valid
Python str but cannot be encoded to UTF-8: storage and the RPC boundary would fail on it later,
as a 5xx the client cannot fix by retrying.
"""

import json
import re
from typing import Any

from shared.errors import ApiError, ErrorCode
from shared.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def nested_deeper_than(raw: bytes, limit: int) -> bool:
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


def read_json(raw: bytes, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    if len(raw) > max_bytes:
        raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, f"The body is {len(raw)} bytes; the limit is {max_bytes}",
                       field="body", limit=max_bytes)
    if nested_deeper_than(raw, max_depth):
        raise ApiError(ErrorCode.INVALID_REQUEST, f"The body nests deeper than {max_depth} levels of arrays and objects",
                       field="body", limit=max_depth)
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"The body is not valid JSON: {exc}", field="body") from exc
    if _SURROGATE_ESCAPE.search(raw) and (path := _first_unencodable(value)) is not None:
        field = ".".join(path) or "body"
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{field}: text must be valid Unicode (a lone surrogate escape was sent)",
                       field=field)
    return value
