"""A cached answer's life as the caller set it (x-cache-ttl), on the host's clock."""

from tests.stream_failures import chat

BODY = {"messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "a minute only"}]}], "temperature": 0}


def test_an_answer_kept_for_the_ttl_the_caller_asked_is_a_miss_once_it_has_passed(client, ai, clock):
    first = client.post("/stream/chat", json=BODY, headers={"x-cache-ttl": "60"})
    clock.advance(59)
    within = chat(client, **BODY)
    clock.advance(1)
    after = chat(client, **BODY)

    assert [r.headers["x-cache"] for r in (first, within, after)] == ["miss", "hit", "miss"]
    assert len(ai.calls()) == 2
