"""What a failed model call means: every Workers AI error code and every provider status mapped to
one failure class, which says what to do next (inference/ai_client.py) and what the caller is
answered if nothing else can answer. Plain Python.

- retry: transient here (capacity, a timeout, a server error): the same model again after a
  backoff, then the next attempt.
- failover: this model cannot answer now (gone, not allowed for the account, a provider's key
  refused): the next attempt at once.
- limit: the account's limit at this provider (Workers AI's daily allocation, a provider's rate
  limit or credit): none of the provider's other models is tried; the next provider is, else the
  caller gets a 429/503 whose code names the limit, with Retry-After where it is known.
- client: the request's own fault (invalid input, too large, beyond the context window): a 4xx,
  nothing else tried (another model would refuse it too).

Workers AI's codes are those of its errors page (developers.cloudflare.com/workers-ai/platform/
errors/) and the messages its binding raises ("AiError: 4006: you have used up your daily free
allocation of 10,000 neurons, ..."); a provider's statuses and error codes are OpenAI's
(platform.openai.com/docs/guides/error-codes). A code or status not listed fails over: another
model or provider may answer, and the request is not known to be at fault."""

import re
from dataclasses import dataclass
from enum import StrEnum

from shared.errors import ErrorCode
from shared.json_reader import parse_json
from shared.limits import MAX_BODY_BYTES

SECONDS_A_DAY = 86_400
# After a transient failure on every attempt: when to come back.
TRANSIENT_RETRY_AFTER_SECONDS = 5
_CODE = re.compile(r"\b(\d{4}):")


class FailureClass(StrEnum):
    RETRY = "retry"
    FAILOVER = "failover"
    LIMIT = "limit"
    CLIENT = "client"


@dataclass(frozen=True)
class Failure:
    """One failed call, classified: what to do next, and the error to answer if it is the last."""

    kind: FailureClass
    code: ErrorCode
    message: str
    retry_after: int | None = None


@dataclass(frozen=True)
class _Meaning:
    kind: FailureClass
    code: ErrorCode
    what: str  # said to the caller, before the upstream's own message


_TRANSIENT = _Meaning(FailureClass.RETRY, ErrorCode.SERVICE_UNAVAILABLE, "The model is over capacity; try again shortly")
_TIMEOUT = _Meaning(FailureClass.RETRY, ErrorCode.UPSTREAM_TIMEOUT, "The model timed out; try again shortly")
_UNAVAILABLE_MODEL = _Meaning(FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR, "The model failed")
_DAILY_ALLOCATION = _Meaning(FailureClass.LIMIT, ErrorCode.WORKERS_AI_DAILY_LIMIT,
                             "Workers AI's daily allocation of this deployment is used up; it resets at 00:00 UTC")
_INVALID_INPUT = _Meaning(FailureClass.CLIENT, ErrorCode.INVALID_REQUEST, "The model refused the input")

# Workers AI's internal codes, as its errors page lists them (and 4006, the daily allocation as the
# binding reports it on the free plan).
WORKERS_AI_CODES: dict[int, _Meaning] = {
    3001: _TRANSIENT,  # Unknown internal error
    3003: _INVALID_INPUT,  # Incomplete request: missing headers or body
    3006: _Meaning(FailureClass.CLIENT, ErrorCode.PAYLOAD_TOO_LARGE, "The request is too large for the model"),
    3007: _TIMEOUT,  # Timeout
    3008: _TIMEOUT,  # Aborted (the request was aborted upstream)
    3036: _DAILY_ALLOCATION,  # Account limited: the daily free allocation of neurons is used up
    3039: _UNAVAILABLE_MODEL,  # Finetune missing required files
    3040: _TRANSIENT,  # Out of capacity: no more data centers to forward the request to
    3042: _UNAVAILABLE_MODEL,  # Invalid model ID
    3043: _TRANSIENT,  # Internal server error
    3046: _TIMEOUT,  # Request timeout
    4006: _DAILY_ALLOCATION,  # "you have used up your daily free allocation of 10,000 neurons"
    5004: _INVALID_INPUT,  # Invalid data (e.g. a base64 input of the wrong type)
    5006: _INVALID_INPUT,  # Invalid input: the model's input schema refused it
    5007: _UNAVAILABLE_MODEL,  # No such model or task (the catalog's model is gone for this account)
    5016: _UNAVAILABLE_MODEL,  # Model not allowed for account
    5018: _UNAVAILABLE_MODEL,  # Account not allowed for private model
    5021: _Meaning(FailureClass.CLIENT, ErrorCode.CONTEXT_LENGTH_EXCEEDED, "The input is beyond the model's context window"),
}

# A provider's HTTP statuses (OpenAI-compatible); 429 and 400 are told apart by the body's code below.
PROVIDER_STATUSES: dict[int, _Meaning] = {
    400: _INVALID_INPUT,
    401: _Meaning(FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR, "The provider refused this deployment's key"),
    402: _Meaning(FailureClass.LIMIT, ErrorCode.PROVIDER_QUOTA_EXCEEDED, "The provider's credit for this deployment is used up"),
    403: _Meaning(FailureClass.FAILOVER, ErrorCode.UPSTREAM_ERROR, "The provider does not allow this deployment the model"),
    404: _UNAVAILABLE_MODEL,
    408: _TIMEOUT,
    409: _TRANSIENT,
    413: _Meaning(FailureClass.CLIENT, ErrorCode.PAYLOAD_TOO_LARGE, "The request is too large for the provider"),
    422: _INVALID_INPUT,
    425: _TRANSIENT,
    429: _Meaning(FailureClass.LIMIT, ErrorCode.PROVIDER_RATE_LIMITED, "The provider's rate limit for this deployment is reached"),
    500: _TRANSIENT,
    502: _TRANSIENT,
    503: _TRANSIENT,
    504: _TIMEOUT,
}
# OpenAI's error codes that mean more than their status.
PROVIDER_ERROR_CODES: dict[str, _Meaning] = {
    "insufficient_quota": PROVIDER_STATUSES[402],  # a 429 that waiting does not cure
    "context_length_exceeded": WORKERS_AI_CODES[5021],
}


def error_code(message: str) -> int | None:
    """The Workers AI code in an error message such as 'AiError: 3040: Capacity exceeded'."""
    match = _CODE.search(message)
    return int(match.group(1)) if match else None


def seconds_to_utc_midnight(now: float) -> int:
    """Seconds from `now` (since the epoch) to the next 00:00 UTC, when daily allocations reset."""
    return max(1, SECONDS_A_DAY - int(now) % SECONDS_A_DAY)


def _failure(meaning: _Meaning, detail: str, retry_after: int | None = None) -> Failure:
    if retry_after is None and meaning.kind is FailureClass.RETRY:
        retry_after = TRANSIENT_RETRY_AFTER_SECONDS
    return Failure(meaning.kind, meaning.code, f"{meaning.what} ({detail})", retry_after)


def workers_ai_failure(message: str, now: float) -> Failure:
    """What an exception of the AI binding (its message) means; `now`: seconds since the epoch."""
    code = error_code(message)
    meaning = WORKERS_AI_CODES.get(code) if code is not None else None
    if meaning is None:
        lowered = message.lower()
        timed_out = code is None and ("timeout" in lowered or "timed out" in lowered)
        meaning = _TIMEOUT if timed_out else _UNAVAILABLE_MODEL
    retry_after = seconds_to_utc_midnight(now) if meaning is _DAILY_ALLOCATION else None
    return _failure(meaning, message, retry_after)


def _body_error_code(body: str) -> str | None:
    try:
        answer = parse_json(body, max_bytes=MAX_BODY_BYTES, field="the provider's error")
    except ValueError:
        return None
    error = answer.get("error") if isinstance(answer, dict) else None
    code = error.get("code") or error.get("type") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def _seconds(header: str | None) -> int | None:
    try:
        return max(1, round(float(header))) if header else None
    except ValueError:  # an HTTP date: not worth parsing for a hint
        return None


def provider_failure(provider: str, status: int | None, body: str = "", retry_after: str | None = None) -> Failure:
    """What a provider's answer means: `status` None when it could not be reached; `body` its error
    body (OpenAI's `{"error": {"code", "type", "message"}}`), `retry_after` its Retry-After header."""
    if status is None:
        return _failure(_TRANSIENT, f"{provider} unreachable: {body}")
    meaning = PROVIDER_ERROR_CODES.get(_body_error_code(body) or "") or PROVIDER_STATUSES.get(status)
    if meaning is None:
        meaning = _TRANSIENT if status >= 500 else _UNAVAILABLE_MODEL
    hint = _seconds(retry_after) if meaning.kind in (FailureClass.LIMIT, FailureClass.RETRY) else None
    return _failure(meaning, f"{provider} answered {status}: {body[:300]}", hint)


def answer_for(failures: list[Failure]) -> Failure:
    """The failure to answer once every attempt failed: the first limit met (the cause the other
    attempts could not get around), else the last failure."""
    return next((f for f in failures if f.kind is FailureClass.LIMIT), failures[-1])
