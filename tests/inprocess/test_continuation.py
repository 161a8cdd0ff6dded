"""A stream whose model breaks after sending text goes on with the next model of the chain, as
one answer that says it was continued; without that model (or opted out), it ends with an error
part as a broken stream always did."""

import json
import re

import pytest

from tests.stream_failures import chat

FIRST, NEXT = "@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
PROMPT = "one two three four five six seven"
MESSAGES = [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": PROMPT}]}]
# The stand-in's answer, a token a word with its leading space: the first model's, then the next's.
FIRST_TOKENS = re.findall(r"\s*\S+", f"You said: {PROMPT} (a deterministic reply from the local stand-in for {FIRST})")


def events(response) -> list[dict]:
    return [json.loads(e.removeprefix("data: ")) for e in response.text.split("\n\n") if e and e != "data: [DONE]"]


def answer_text(parts: list[dict]) -> str:
    return "".join(p["delta"] for p in parts if p["type"] == "text-delta")


@pytest.mark.parametrize("cut", range(1, len(FIRST_TOKENS)))
def test_a_stream_cut_at_any_token_reads_as_one_answer_by_the_next_model(client, ai, cut):
    ai.fail_next({"mode": "mid_stream", "afterTokens": cut, "message": "connection reset"})

    parts = events(chat(client, messages=MESSAGES))

    # No word repeated or missing at the seam: the next model's answer, whole, from the first word on.
    assert answer_text(parts) == f"You said: {PROMPT} (a deterministic reply from the local stand-in for {NEXT})"
    assert [p["type"] for p in parts].count("error") == 0
    finish = parts[-1]["messageMetadata"]
    assert finish["model"] == NEXT
    continued = finish["continued"]
    assert (continued["from"], continued["by"], continued["provider"]) == (FIRST, NEXT, "workers-ai")
    # What the client had when the next model took over: at most the tokens sent before the cut (a
    # relay reading in batches loses those its read had not taken when the stream failed).
    assert 0 < continued["afterChars"] <= len("".join(FIRST_TOKENS[:cut]))
    assert [c["model"] for c in ai.calls()] == [FIRST, NEXT]


def test_a_model_that_goes_silent_is_continued_too(client, ai):
    ai.fail_next({"mode": "stall", "afterTokens": 3})  # the test host gives up on a silent model after 1 s

    parts = events(chat(client, messages=MESSAGES))

    assert answer_text(parts) == f"You said: {PROMPT} (a deterministic reply from the local stand-in for {NEXT})"
    assert parts[-1]["messageMetadata"]["continued"]["from"] == FIRST


def test_a_request_that_opts_out_gets_the_error_part(client, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 2, "message": "gone"})

    parts = events(chat(client, messages=MESSAGES, continuation=False))

    assert answer_text(parts) == "You said:"
    assert parts[-1] == {"type": "error", "errorText": "The model stream failed: 3040: gone"}
    assert len(ai.calls()) == 1


def test_the_last_model_of_the_chain_ends_with_the_error_part(client, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 2, "message": "gone"})

    parts = events(chat(client, messages=MESSAGES, model=NEXT))  # no model after it in the chain

    assert parts[-1]["type"] == "error" and "gone" in parts[-1]["errorText"]
    assert len(ai.calls()) == 1


def recorded(host) -> list[tuple[str, str]]:
    return host.inference_env.DB.rows("SELECT model, outcome FROM ai_calls ORDER BY rowid")


def test_a_next_model_that_fails_too_leaves_the_first_failure_to_tell(host, client, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 2, "message": "gone"}, {"mode": "error", "code": 5000, "message": "crashed"})
    before = len(recorded(host))

    parts = events(chat(client, messages=MESSAGES))

    assert answer_text(parts) == "You said:"
    assert parts[-1]["type"] == "error" and "gone" in parts[-1]["errorText"]
    assert [c["model"] for c in ai.calls()] == [FIRST, NEXT]
    assert [tuple(r) for r in recorded(host)[before:]] == [(FIRST, "failed_mid_stream")]  # the broken call, once


def test_a_continued_answer_records_the_broken_call_and_the_continuing_one(host, client, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 4})
    before = len(recorded(host))

    chat(client, messages=MESSAGES)

    assert [tuple(r) for r in recorded(host)[before:]] == [(FIRST, "failed_mid_stream"), (NEXT, "ok")]
