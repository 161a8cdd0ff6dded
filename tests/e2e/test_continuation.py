"""On workerd: a stream cut after five tokens reads as one answer, continued by the next model of
the chain and marked so; opted out, it ends with the error part."""

import json

from tests.stream_failures import chat

FIRST, NEXT = "@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
MESSAGES = [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "one two three four five six"}]}]


def parts_of(response) -> list[dict]:
    return [json.loads(e.removeprefix("data: ")) for e in response.text.split("\n\n") if e and e != "data: [DONE]"]


def text_of(parts: list[dict]) -> str:
    return "".join(p["delta"] for p in parts if p["type"] == "text-delta")


def test_a_stream_cut_after_five_tokens_is_one_continued_answer(client, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 5, "message": "connection reset"})

    parts = parts_of(chat(client, messages=MESSAGES))

    assert text_of(parts) == f"You said: one two three four five six (a deterministic reply from the local stand-in for {NEXT})"
    assert not [p for p in parts if p["type"] == "error"]
    metadata = parts[-1]["messageMetadata"]
    assert metadata["model"] == NEXT
    assert metadata["continued"] == {"from": FIRST, "by": NEXT, "provider": "workers-ai", "afterChars": len("You said: one two three")}
    assert [c["model"] for c in ai.calls()] == [FIRST, NEXT]


def test_without_a_continuation_the_cut_stream_ends_with_the_error_part(client, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 5, "message": "connection reset"})

    parts = parts_of(chat(client, messages=MESSAGES, continuation=False))

    assert text_of(parts) == "You said: one two three"
    assert parts[-1]["type"] == "error" and "connection reset" in parts[-1]["errorText"]
    assert len(ai.calls()) == 1
