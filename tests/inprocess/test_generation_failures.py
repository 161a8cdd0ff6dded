"""How the streaming routes fail: as JSON errors with the right status before the first token,
in-band after it; never a hang, never a 500 or a traceback."""

import time

from tests.stream_failures import assert_error, chat


def test_a_model_that_fails_for_an_unknown_reason_is_passed_over_at_once_for_the_next(client, ai):
    ai.fail_next({"mode": "error", "code": 5000, "message": "model crashed"})

    response = chat(client)

    assert response.status_code == 200
    assert response.headers["x-model"] == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    assert [c["model"] for c in ai.calls()] == ["@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"]


def test_every_model_failing_before_the_first_token_is_a_502(client, ai):
    ai.fail_next(*[{"mode": "error", "code": 5000, "message": "model crashed"}] * 2)

    error = assert_error(chat(client), 502, "upstream_error")

    assert "model crashed" in error["message"]
    assert len(ai.calls()) == 2  # not transient: no retry of either model


def test_input_the_model_refuses_is_the_clients_fault_tried_once(client, ai):
    ai.fail_next({"mode": "error", "code": 5006, "message": "Error: required properties at '/' are 'prompt' or 'messages'"})

    error = assert_error(chat(client), 400, "invalid_request")

    assert "required properties" in error["message"]
    assert len(ai.calls()) == 1


def test_workers_ai_out_of_its_daily_allocation_without_a_provider_is_a_429_naming_the_limit(client, ai):
    ai.fail_next({"mode": "error", "code": 4006, "message": "you have used up your daily free allocation of 10,000 neurons"})

    response = chat(client)

    error = assert_error(response, 429, "workers_ai_daily_limit")
    assert "daily allocation" in error["message"]
    assert 0 < int(response.headers["retry-after"]) <= 86_400  # until 00:00 UTC
    assert len(ai.calls()) == 1  # the fallback model is on the same account: not tried


def test_a_transient_failure_is_retried(client, ai):
    ai.fail_next({"mode": "error", "code": 3040})

    response = chat(client)

    assert response.status_code == 200
    assert '"type":"finish"' in response.text
    assert [c["model"] for c in ai.calls()] == ["@cf/meta/llama-3.1-8b-instruct-fast"] * 2


def test_repeated_capacity_errors_fall_back_to_the_next_model(client, ai):
    ai.fail_next({"mode": "error", "code": 3040}, {"mode": "error", "code": 3040})

    response = chat(client)

    assert response.status_code == 200
    assert response.headers["x-model"] == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def test_capacity_exhausted_everywhere_is_a_503_with_retry_after(client, ai):
    ai.fail_next(*[{"mode": "error", "code": 3040}] * 4)  # two attempts on each of two models

    response = chat(client)

    assert_error(response, 503, "service_unavailable")
    assert response.headers["retry-after"] == "5"
    assert chat(client).status_code == 200  # the failures were used up: served again


def test_a_failure_before_the_first_token_of_a_stream_is_retried_too(client, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 0, "code": 3040})

    assert chat(client).status_code == 200
    assert len(ai.calls()) == 2


def test_a_mid_stream_failure_ends_the_ui_stream_with_an_error_chunk(client, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 2, "message": "gone"})

    response = chat(client, continuation=False)  # else the next model takes it up (test_continuation.py)

    assert response.status_code == 200
    events = [line for line in response.text.split("\n\n") if line]
    assert sum('"type":"text-delta"' in e for e in events) == 2
    assert '"type":"error"' in events[-2] and "gone" in events[-2]
    assert events[-1] == "data: [DONE]"


def test_a_deterministic_request_is_answered_from_cache_the_second_time(client, ai):
    body = {"messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "cache me"}]}], "temperature": 0}
    hits_before = client.get("/v1/usage").json()["cache_hits"]

    first, second = chat(client, **body), chat(client, **body)

    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    texts = ["".join(e.split('"delta":"')[1].split('"')[0] for e in r.text.split("\n\n") if '"text-delta"' in e) for r in (first, second)]
    assert texts[0] == texts[1] != ""
    assert '"cached":true' in second.text
    assert len(ai.calls()) == 1  # the model saw only the first
    deadline = time.monotonic() + 10
    while client.get("/v1/usage").json()["cache_hits"] != hits_before + 1:  # recorded as the stream ends
        assert time.monotonic() < deadline, "the cache hit was never recorded"
        time.sleep(0.1)
