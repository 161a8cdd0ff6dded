"""Calls to the inference service over the INFERENCE service binding, with a deadline, and
its failures turned into the api's errors: a timeout is a 504, an exception a 502, a model
that failed before its first token whatever the service says (502, or 503 with Retry-After)."""

import asyncio
from typing import Any

from shared.contract import ServiceFailure
from shared.errors import ApiError, ErrorCode

DEFAULT_TIMEOUT_MS = 30_000


def _timeout_seconds(env: Any) -> float:
    return float(getattr(env, "INFERENCE_TIMEOUT_MS", DEFAULT_TIMEOUT_MS) or DEFAULT_TIMEOUT_MS) / 1000


def service_deadline_ms(env: Any) -> int:
    """The deadline handed to the inference service with a generation: inside the api's own, so
    the service's answer (a 504 it has recorded, the model call cancelled) arrives first."""
    timeout_ms = _timeout_seconds(env) * 1000
    return max(1, int(timeout_ms - max(100, timeout_ms * 0.05)))


async def call_inference(call: Any, method: str, *args: Any) -> Any:
    timeout = _timeout_seconds(call.env)
    try:
        result = await asyncio.wait_for(getattr(call.env.INFERENCE, method)(*args), timeout)
    except TimeoutError as exc:
        raise ApiError(ErrorCode.UPSTREAM_TIMEOUT, f"The inference service did not answer within {timeout:g} s",
                       headers={"retry-after": "1"}) from exc
    except Exception as exc:
        # The message can hold the other worker's traceback: it goes to the log, not the client.
        print(f"request {call.request_id}: inference.{method} raised {type(exc).__name__}: {exc}")
        raise ApiError(ErrorCode.UPSTREAM_ERROR, "The inference service failed; the error is logged",
                       request_id=call.request_id) from exc
    if isinstance(result, dict) and "failure" in result:
        failure = ServiceFailure.model_validate(result["failure"])
        headers = {"retry-after": str(failure.retry_after)} if failure.retry_after else None
        raise ApiError(failure.code, failure.message, headers=headers)
    return result
