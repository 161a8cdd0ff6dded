"""W3C trace context: a well-formed traceparent names the client's span, which the api's span is
a child of; anything malformed is ignored and the request starts a new trace."""

import pytest

from shared.tracing import parse_traceparent, span_under

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def test_a_well_formed_traceparent_is_the_parent_of_the_span_opened_under_it():
    span = span_under(f"00-{TRACE}-{SPAN}-01")

    assert (span.trace_id, span.parent_id, span.flags) == (TRACE, SPAN, 1)
    assert span.span_id != SPAN and len(span.span_id) == 16
    assert span.traceparent == f"00-{TRACE}-{span.span_id}-01"


def test_the_sampled_flag_is_carried_as_it_came():
    assert span_under(f"00-{TRACE}-{SPAN}-00").traceparent.endswith("-00")


def test_a_later_version_s_extra_fields_are_ignored():
    assert parse_traceparent(f"01-{TRACE}-{SPAN}-01-more") is not None


@pytest.mark.parametrize("header", [
    None, "", "garbage", f"00-{TRACE}-{SPAN}", f"00-{TRACE.upper()}-{SPAN}-01", f"ff-{TRACE}-{SPAN}-01",
    f"00-{'0' * 32}-{SPAN}-01", f"00-{TRACE}-{'0' * 16}-01", f"00-{TRACE}-{SPAN}-01-extra", f"00-{TRACE[:-1]}-{SPAN}-01",
    f"00-{TRACE}-{SPAN}-01" + "x" * 600,
])
def test_a_malformed_traceparent_is_ignored_and_a_new_trace_begins(header):
    span = span_under(header)

    assert parse_traceparent(header) is None
    assert span.parent_id is None and span.trace_id != TRACE and len(span.trace_id) == 32


def test_a_child_span_keeps_the_trace_and_names_its_parent():
    parent = span_under(None)
    child = parent.child()

    assert (child.trace_id, child.parent_id) == (parent.trace_id, parent.span_id) and child.span_id != parent.span_id
