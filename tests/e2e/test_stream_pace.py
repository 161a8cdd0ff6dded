"""A streamed answer whatever the model's pace (inference/streaming.py): tokens that come one by
one are relayed as they come, each on its own; tokens that come faster than the relay are
relayed in batches. Either way the client gets every token, in order: the answer it would have
got unstreamed."""

import json
import time

PROMPT = " ".join(f"w{i}" for i in range(60))
MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"  # the default model, which /stream/chat uses


def ui_chat(prompt: str) -> dict:
    return {"messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": prompt}]}]}


def streamed(client, prompt: str) -> list[tuple[float, str]]:
    """(arrival time, delta) of each text delta of the answer, as read by the client."""
    deltas = []
    with client.stream("POST", "/stream/chat", json=ui_chat(prompt)) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: {"):
                event = json.loads(line[6:])
                assert event["type"] != "error", event
                if event["type"] == "text-delta":
                    deltas.append((time.monotonic(), event["delta"]))
    return deltas


def unstreamed(client, prompt: str) -> str:
    response = client.post("/v1/chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": prompt}]})
    assert response.status_code == 200
    return response.json()["choices"][0]["message"]["content"]


def test_a_model_faster_than_the_relay_still_gives_every_token_in_order(client, ai):
    ai.set(tokenDelayMs=0)  # the whole answer at once: relayed in batches

    deltas = streamed(client, PROMPT)

    assert "".join(delta for _, delta in deltas) == unstreamed(client, PROMPT)
    assert len(deltas) > 60


def test_a_model_at_its_own_pace_is_relayed_as_it_comes(client, ai):
    ai.set(tokenDelayMs=60)  # slower than STREAM_FLUSH_MS: each token on its own, nothing held back
    prompt = "one two three four five"

    deltas = streamed(client, prompt)

    assert "".join(delta for _, delta in deltas) == unstreamed(client, prompt)
    arrivals = [at for at, _ in deltas]
    assert arrivals[-1] - arrivals[0] > 0.5  # spread over the answer's time, not held until its end
    assert len({round(at, 2) for at in arrivals}) >= len(arrivals) - 2  # each at its own moment
