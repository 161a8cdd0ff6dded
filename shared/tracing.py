"""W3C trace context (https://www.w3.org/TR/trace-context/): the `traceparent` a client may send,
read and checked, and the span each hop opens under it.

A request's trace is the client's when its `traceparent` is well formed, else a new one: a
malformed header is ignored (the specification's rule: a vendor that cannot parse it starts a new
trace), never refused, since tracing must not cost a client its answer. Each hop (the api, the
inference service's call, the provider's request) is a span of its own: a new span id whose
parent is the hop before it, so a trace backend draws the request as one tree."""

import re
import secrets
from dataclasses import dataclass

# version-trace_id-parent_id-flags, lowercase hex. A version above 00 may append fields after a
# dash, which this version's reader ignores; version ff is invalid.
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
SAMPLED = 0x01
MAX_HEADER_CHARS = 512  # a longer header is ignored unread (the specification's fields fit in 55)


@dataclass(frozen=True)
class TraceContext:
    """One span of a trace: its trace, its own id, the span it was started under (none for a
    trace's first), and the trace's flags (sampled or not)."""

    trace_id: str
    span_id: str
    parent_id: str | None = None
    flags: int = SAMPLED

    @property
    def traceparent(self) -> str:
        """The header a request made from this span carries (its parent: this span)."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags:02x}"

    def child(self) -> "TraceContext":
        """A span started under this one (the next hop's)."""
        return TraceContext(self.trace_id, _new_span_id(), self.span_id, self.flags)

    def log_fields(self) -> dict[str, str | None]:
        """The span's ids as a log line names them."""
        return {"trace_id": self.trace_id, "span_id": self.span_id, "parent_span_id": self.parent_id}


def _new_span_id() -> str:
    return secrets.token_hex(8)


def parse_traceparent(header: str | None) -> TraceContext | None:
    """The span a well-formed `traceparent` names (as the parent of the reader's own), else None."""
    if not header or len(header) > MAX_HEADER_CHARS:
        return None
    match = _TRACEPARENT.match(header.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    return TraceContext(trace_id, parent_id, None, int(flags, 16))


def new_trace() -> TraceContext:
    """The first span of a new trace (a request that brought no usable traceparent)."""
    return TraceContext(secrets.token_hex(16), _new_span_id())


def span_under(header: str | None) -> TraceContext:
    """The span a hop opens for a request carrying `header`: a child of the span it names, or the
    first span of a new trace when it names none (missing or malformed)."""
    parent = parse_traceparent(header)
    return parent.child() if parent is not None else new_trace()
