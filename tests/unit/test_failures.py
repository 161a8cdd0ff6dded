"""Failure classes (shared/failures.py) over the error messages Workers AI's binding raises and the
error bodies OpenAI-compatible providers answer with, as their docs show them."""

import json
from datetime import UTC, datetime

import pytest

from shared.errors import STATUS_BY_CODE, ErrorCode
from shared.failures import Failure, FailureClass, answer_for, error_code, provider_failure, workers_ai_failure

NOON = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC).timestamp()

# Messages as the AI binding raises them (the exception's text under the runtime).
DAILY_ALLOCATION = ("AiError: 4006: you have used up your daily free allocation of 10,000 neurons, please upgrade to "
                    "Cloudflare's Workers Paid plan if you would like to continue usage.")
ACCOUNT_LIMITED = "AiError: 3036: Account limited: You have used up your daily free allocation of 10,000 neurons."
CAPACITY = "AiError: 3040: Capacity temporarily exceeded, please try again."
TIMEOUT = "AiError: 3007: Request timeout"
SERVER_ERROR = "AiError: 3043: Internal server error"
NO_SUCH_MODEL = "AiError: 5007: No such model @cf/meta/llama-2-7b-chat-int8 or task"
NOT_ALLOWED = "AiError: 5016: The account is not allowed to access this model"
INVALID_INPUT = "AiError: 5006: Error: required properties at '/' are 'prompt' or 'messages'"
TOO_LARGE = "AiError: 3006: Request is too large"
CONTEXT_WINDOW = ("AiError: 5021: The estimated number of input and maximum output tokens (140000) exceeded this "
                  "model context window limit (131072).")

# OpenAI's error bodies (platform.openai.com/docs/guides/error-codes), as a compatible provider sends them.
RATE_LIMITED = json.dumps({"error": {"message": "Rate limit reached for gpt-4o in organization org-x on requests per min (RPM): "
                                                "Limit 500, Used 500, Requested 1.", "type": "requests", "param": None,
                                     "code": "rate_limit_exceeded"}})
NO_QUOTA = json.dumps({"error": {"message": "You exceeded your current quota, please check your plan and billing details.",
                                 "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}})
BAD_KEY = json.dumps({"error": {"message": "Incorrect API key provided: sk-****.", "type": "invalid_request_error",
                                "param": None, "code": "invalid_api_key"}})
CONTEXT_TOO_LONG = json.dumps({"error": {"message": "This model's maximum context length is 128000 tokens.",
                                         "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})
OVERLOADED = json.dumps({"error": {"message": "The server is overloaded or not ready yet.", "type": "server_error", "code": None}})


@pytest.mark.parametrize(("message", "kind", "code"), [
    (CAPACITY, FailureClass.RETRY, ErrorCode.SERVICE_UNAVAILABLE),
    (TIMEOUT, FailureClass.RETRY, ErrorCode.UPSTREAM_TIMEOUT),
    (SERVER_ERROR, FailureClass.RETRY, ErrorCode.SERVICE_UNAVAILABLE),
    ("Error: Network connection lost: read timed out", FailureClass.RETRY, ErrorCode.UPSTREAM_TIMEOUT),
    (NO_SUCH_MODEL, FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR),
    (NOT_ALLOWED, FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR),
    ("AiError: 3999: something new", FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR),
    ("TypeError: undefined is not a function", FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR),
    (DAILY_ALLOCATION, FailureClass.LIMIT, ErrorCode.WORKERS_AI_DAILY_LIMIT),
    (ACCOUNT_LIMITED, FailureClass.LIMIT, ErrorCode.WORKERS_AI_DAILY_LIMIT),
    (INVALID_INPUT, FailureClass.CLIENT, ErrorCode.INVALID_REQUEST),
    (TOO_LARGE, FailureClass.CLIENT, ErrorCode.PAYLOAD_TOO_LARGE),
    (CONTEXT_WINDOW, FailureClass.CLIENT, ErrorCode.CONTEXT_LENGTH_EXCEEDED),
])
def test_every_workers_ai_error_has_a_class_and_an_answer(message, kind, code):
    failure = workers_ai_failure(message, NOON)

    assert (failure.kind, failure.code) == (kind, code)
    assert message in failure.message  # the upstream's own words stay in the answer


def test_the_daily_allocation_is_a_429_until_midnight_utc():
    failure = workers_ai_failure(DAILY_ALLOCATION, NOON)

    assert STATUS_BY_CODE[failure.code] == 429
    assert failure.retry_after == 12 * 3600
    assert "00:00 UTC" in failure.message


def test_transient_failures_say_when_to_come_back_and_others_do_not():
    assert workers_ai_failure(CAPACITY, NOON).retry_after == 5
    assert workers_ai_failure(NO_SUCH_MODEL, NOON).retry_after is None
    assert workers_ai_failure(INVALID_INPUT, NOON).retry_after is None


def test_the_code_is_read_from_the_message():
    assert error_code(CAPACITY) == 3040
    assert error_code("no code here") is None


@pytest.mark.parametrize(("status", "body", "kind", "code"), [
    (429, RATE_LIMITED, FailureClass.LIMIT, ErrorCode.PROVIDER_RATE_LIMITED),
    (429, NO_QUOTA, FailureClass.LIMIT, ErrorCode.PROVIDER_QUOTA_EXCEEDED),
    (402, "", FailureClass.LIMIT, ErrorCode.PROVIDER_QUOTA_EXCEEDED),
    (401, BAD_KEY, FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR),
    (403, "", FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR),
    (404, "", FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR),
    (400, CONTEXT_TOO_LONG, FailureClass.CLIENT, ErrorCode.CONTEXT_LENGTH_EXCEEDED),
    (400, json.dumps({"error": {"message": "Invalid 'messages'", "code": None}}), FailureClass.CLIENT, ErrorCode.INVALID_REQUEST),
    (413, "", FailureClass.CLIENT, ErrorCode.PAYLOAD_TOO_LARGE),
    (500, "", FailureClass.RETRY, ErrorCode.SERVICE_UNAVAILABLE),
    (503, OVERLOADED, FailureClass.RETRY, ErrorCode.SERVICE_UNAVAILABLE),
    (504, "<html>Gateway Timeout</html>", FailureClass.RETRY, ErrorCode.UPSTREAM_TIMEOUT),
    (529, "", FailureClass.RETRY, ErrorCode.SERVICE_UNAVAILABLE),
    (418, "", FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR),
])
def test_every_provider_status_has_a_class_and_an_answer(status, body, kind, code):
    failure = provider_failure("openrouter", status, body)

    assert (failure.kind, failure.code) == (kind, code)
    assert f"openrouter answered {status}" in failure.message


def test_an_unreachable_provider_is_retried():
    failure = provider_failure("openrouter", None, "TypeError: fetch failed")

    assert failure.kind is FailureClass.RETRY and "openrouter unreachable" in failure.message


def test_a_providers_retry_after_is_passed_on_for_its_limit():
    assert provider_failure("openrouter", 429, RATE_LIMITED, retry_after="20").retry_after == 20
    assert provider_failure("openrouter", 429, RATE_LIMITED).retry_after is None  # not known: not guessed
    assert provider_failure("openrouter", 429, RATE_LIMITED, retry_after="Wed, 21 Oct 2026 07:28:00 GMT").retry_after is None
    assert STATUS_BY_CODE[provider_failure("openrouter", 402).code] == 503  # no wait cures an empty account


def test_when_every_attempt_failed_the_limit_met_is_the_answer_not_the_last_failure():
    limit = workers_ai_failure(DAILY_ALLOCATION, NOON)
    capacity = provider_failure("openrouter", 503, OVERLOADED)

    assert answer_for([limit, capacity]) is limit
    assert answer_for([capacity, workers_ai_failure(NO_SUCH_MODEL, NOON)]).kind is FailureClass.FAILOVER
    assert isinstance(answer_for([capacity]), Failure)
