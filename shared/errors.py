"""Error codes and the one error shape every route answers with: {"error": {"code", "message", ...}}."""

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID_REQUEST = "invalid_request"
    MODEL_NOT_FOUND = "model_not_found"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal_error"
    UPSTREAM_ERROR = "upstream_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    UPSTREAM_TIMEOUT = "upstream_timeout"
    NOT_IMPLEMENTED = "not_implemented"
    # A feature or option the chosen model (or this deployment) does not offer: refused, never dropped.
    UNSUPPORTED = "unsupported"
    # Input beyond the model's context window (OpenAI's code, which its clients recognise).
    CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"
    # A model outside what the caller's tier and key policy allow.
    MODEL_NOT_ALLOWED = "model_not_allowed"
    # A key's own limits (shared/policy.py): its budget for the period, its AI tokens a minute,
    # its AI requests in flight at once.
    BUDGET_EXCEEDED = "budget_exceeded"
    TOKENS_PER_MINUTE_EXCEEDED = "tokens_per_minute_exceeded"
    CONCURRENCY_LIMIT_EXCEEDED = "concurrency_limit_exceeded"
    # The guardrails' moderation model flagged the prompt (or, for a whole answer, the answer).
    CONTENT_BLOCKED = "content_blocked"
    # The deployment's own limits upstream, when no other provider could answer (shared/failures.py).
    WORKERS_AI_DAILY_LIMIT = "workers_ai_daily_limit"
    PROVIDER_RATE_LIMITED = "provider_rate_limited"
    PROVIDER_QUOTA_EXCEEDED = "provider_quota_exceeded"


STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.MODEL_NOT_FOUND: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UPSTREAM_ERROR: 502,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.UPSTREAM_TIMEOUT: 504,
    ErrorCode.NOT_IMPLEMENTED: 501,
    ErrorCode.UNSUPPORTED: 400,
    ErrorCode.CONTEXT_LENGTH_EXCEEDED: 400,
    ErrorCode.MODEL_NOT_ALLOWED: 403,
    ErrorCode.BUDGET_EXCEEDED: 429,
    ErrorCode.TOKENS_PER_MINUTE_EXCEEDED: 429,
    ErrorCode.CONCURRENCY_LIMIT_EXCEEDED: 429,
    ErrorCode.CONTENT_BLOCKED: 400,
    ErrorCode.WORKERS_AI_DAILY_LIMIT: 429,
    ErrorCode.PROVIDER_RATE_LIMITED: 429,
    ErrorCode.PROVIDER_QUOTA_EXCEEDED: 503,
}


# OpenAI's error "type" for each HTTP status the api answers with.
OPENAI_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                      404: "not_found_error", 405: "invalid_request_error", 409: "invalid_request_error", 413: "invalid_request_error",
                      429: "rate_limit_error"}


def error_body(code: ErrorCode, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": str(code), "message": message, **details}}


def openai_error_body(body: dict[str, Any], status: int) -> dict[str, Any]:
    """The error body with the fields OpenAI clients read added (type and param): what /v1 answers."""
    error = body["error"]
    return {"error": {**error, "type": OPENAI_ERROR_TYPES.get(status, "server_error"), "param": error.get("field")}}


class ApiError(Exception):
    """Raised anywhere in a request; the pipeline turns it into the error response."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        status: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}
        # A code's status unless the route answers it otherwise (an unknown model in a request
        # body is a 400; the model a path names, a 404).
        self._status = status
        self.details = details

    @property
    def status(self) -> int:
        return self._status or STATUS_BY_CODE[self.code]

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, **self.details)
