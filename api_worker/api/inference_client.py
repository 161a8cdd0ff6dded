"""The api worker's one way to the inference service: `InferenceClient`, a typed method per RPC
of shared/rpc.py over the INFERENCE service binding. It owns what every call needs: the deadline
(a timeout is a 504), the conversion of models to JSON text and back (a result is validated
with its contract model), and the failures, turned into the api's errors: an exception in the
service is a 502 (its traceback goes to the log, not the client), a ServiceFailure is the status
its code names (502, 503 with Retry-After, 504)."""

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from api.backends import BackendPool
from shared import clock
from shared.analytics import EventPage, EventQuery, MetricQuery, MetricSeries
from shared.contract import (
    AdmissionRequest,
    AdmissionResult,
    BatchRef,
    BatchResult,
    BatchStatus,
    Caller,
    CreatedKey,
    EmbeddingRequest,
    EmbeddingResult,
    EventBatch,
    GenerationRequest,
    GenerationResult,
    HealthReport,
    KeyInfo,
    KeySpec,
    RateWindow,
    ServiceFailure,
    UnindexedBatch,
    UsageReport,
    WorkRequest,
)
from shared.documents import DocumentInfo, DocumentRef, DocumentRequest, SearchRequest, SearchResult
from shared.errors import ApiError, ErrorCode
from shared.json_reader import parse_internal, parse_internal_as
from shared.runtime import runtime_env

Result = TypeVar("Result", bound=BaseModel)
FAILURE_PREFIX = '{"failure":'  # how inference_worker/entry.py answers a ServiceFailed


def refused(code: ErrorCode, message: str, reason: str | None = None, retry_after: int | None = None,
            **details: Any) -> ApiError:
    """The error for a refusal: a 401 says how to authenticate, a 429 when to come back; `details`
    (the field it names, ...) go into the error's body."""
    headers = {"www-authenticate": 'Bearer realm="inference-ui"'} if code == ErrorCode.UNAUTHORIZED else {}
    if code == ErrorCode.RATE_LIMITED or retry_after:
        headers["retry-after"] = str(retry_after or 1)
    return ApiError(code, message, headers=headers, **details, **({"reason": reason} if reason else {}))


def service_deadline_ms(timeout_ms: float) -> int:
    """The deadline handed to the inference service with a generation: inside the api's own, so
    the service's answer (a 504 it has recorded, the model call cancelled) arrives first."""
    return max(1, int(timeout_ms - max(100, timeout_ms * 0.05)))


class BackendFailed(Exception):
    """An attempt that another backend may answer: the binding raised, timed out, or the service
    answered with a 5xx failure. Carries the error to answer if no backend can."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


class InferenceClient:
    """One request's way to the inference service: the backends to try (api/backends.py), in
    order, for every call it makes; which one answered and which failed first."""

    def __init__(self, env: Any, pool: BackendPool, request_id: str, timeout_ms: float,
                 on_window: Callable[[RateWindow], None]) -> None:
        self.bindings = runtime_env(env)  # the runtime's service bindings: their stubs take and give JSON text as is
        self.pool = pool
        self.request_id = request_id
        self.timeout_ms = timeout_ms
        self.on_window = on_window  # the caller's rate window, when a work call admitted the request
        # The request's admission, left by auth to the handler's work call (api/auth.py): sent
        # with the first work call (and again with each backend it fails over to).
        self.admission: AdmissionRequest | None = None
        self._plan: list[str] | None = None  # the backends this request tries, in order
        self.backend: str | None = None  # the one that answered last
        self.failovers: list[str] = []  # "<backend>: <why>", for each attempt passed over

    def take_admission(self) -> AdmissionRequest | None:
        """The admission the next work call would carry, which the caller now makes itself."""
        admission, self.admission = self.admission, None
        return admission

    def _window(self, window: RateWindow | None) -> None:
        if window is not None:
            self.on_window(window)

    async def _call(self, method: str, *args: Any, work: WorkRequest | None = None, failover: bool = True) -> Any:
        """Calls `method` on this request's backend, and on the next one while they fail. A work
        request is sent as JSON text naming its backend, with its admission every time: a backend
        that failed may or may not have counted it, and the key's counter counts a request id
        once (inference/counter.py), so the request is counted exactly once."""
        if self._plan is None:
            self._plan = self.pool.plan(clock.monotonic())
        last: BackendFailed | None = None
        for backend in list(self._plan):
            if work is not None:
                args = (work.model_copy(update={"backend": backend, "failovers": len(self.failovers)}).model_dump_json(),)
            try:
                result = await self._attempt(backend, method, args)
            except BackendFailed as failed:
                self.pool.failed(backend, clock.monotonic())
                self._plan.remove(backend)
                self.failovers.append(f"{backend}: {failed.error.message}")
                last = failed
                if failover:
                    continue
                raise failed.error from None
            except ApiError:
                # A refusal of the request (a 4xx: the client's mistake, its limits) is an answer:
                # the backend works, and its circuit counts it as a success.
                self._answered(backend)
                raise
            self._answered(backend)
            return result
        if last is None:
            raise ApiError(ErrorCode.SERVICE_UNAVAILABLE, "No inference backend is available", headers={"retry-after": "1"})
        raise last.error

    def _answered(self, backend: str) -> None:
        self.pool.succeeded(backend)
        self.backend = backend

    async def _attempt(self, backend: str, method: str, args: tuple) -> Any:
        timeout = self.timeout_ms / 1000
        try:
            # The request id last, for the service's log line of this call (inference/log.py).
            result = await asyncio.wait_for(getattr(getattr(self.bindings, backend), method)(*args, self.request_id), timeout)
        except TimeoutError:
            raise BackendFailed(ApiError(ErrorCode.UPSTREAM_TIMEOUT, f"The inference service did not answer within {timeout:g} s",
                                         headers={"retry-after": "1"})) from None
        except Exception as exc:
            # The message can hold the other worker's traceback: it goes to the log, not the client.
            print(f"request {self.request_id}: {backend}.{method} raised {type(exc).__name__}: {exc}")
            raise BackendFailed(ApiError(ErrorCode.UPSTREAM_ERROR, "The inference service failed; the error is logged",
                                         request_id=self.request_id)) from None
        if isinstance(result, str) and result.startswith(FAILURE_PREFIX):
            failure = parse_internal_as(ServiceFailure, result[len(FAILURE_PREFIX):-1], field=f"{method} failure")
            self._window(failure.window)
            error = refused(failure.code, failure.message, failure.reason, failure.retry_after, **failure.details)
            if error.status >= 500:
                raise BackendFailed(error)
            raise error
        return result

    async def _model(self, model: type[Result], method: str, *args: Any, **options: Any) -> Result:
        return parse_internal_as(model, await self._call(method, *args, **options), field=f"{method} answer")

    async def health(self, deep: bool = False) -> HealthReport:
        return await self._model(HealthReport, "health", deep)

    async def admit(self, request: AdmissionRequest) -> AdmissionResult:
        return await self._model(AdmissionResult, "admit", request.model_dump_json())

    async def get_usage(self, caller: Caller) -> UsageReport:
        return await self._model(UsageReport, "get_usage", caller.model_dump_json())

    async def create_key(self, spec: KeySpec) -> CreatedKey:
        # Not sent again to another backend: a key created by one that failed to answer would be a second key.
        return await self._model(CreatedKey, "create_key", spec.model_dump_json(), failover=False)

    async def list_keys(self) -> list[KeyInfo]:
        return [KeyInfo.model_validate(key) for key in parse_internal(await self._call("list_keys"), field="list_keys answer")]

    async def revoke_key(self, key_id: str) -> bool:
        return parse_internal(await self._call("revoke_key", key_id), field="revoke_key answer") is True

    async def stream_generation(self, request: GenerationRequest) -> Any:
        """A Response (JS, from the service) whose body streams the answer: passed through, never read."""
        request = request.model_copy(update={"deadline_ms": service_deadline_ms(self.timeout_ms), "admission": self.take_admission()})
        response = await self._call("stream_generation", work=request)
        if limit := response.headers.get("x-ratelimit-limit"):
            self._window(RateWindow(limit=int(limit), remaining=int(response.headers.get("x-ratelimit-remaining")),
                                    reset_seconds=int(response.headers.get("x-ratelimit-reset"))))
        return response

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        request = request.model_copy(update={"deadline_ms": service_deadline_ms(self.timeout_ms), "admission": self.take_admission()})
        result = await self._model(GenerationResult, "generate", work=request)
        self._window(result.window)
        return result

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResult:
        return await self._work(EmbeddingResult, "embed", request)

    async def process_events(self, batch: EventBatch) -> BatchResult:
        return await self._work(BatchResult, "process_events", batch)

    async def _work(self, model: type[Result], method: str, request: WorkRequest) -> Result:
        """A work call: it carries the request's admission, and its result the caller's window."""
        request = request.model_copy(update={"admission": self.take_admission()})
        result = await self._model(model, method, work=request)
        self._window(result.window)
        return result

    async def store_document(self, request: DocumentRequest) -> DocumentInfo:
        return await self._work(DocumentInfo, "store_document", request)

    async def resume_document(self, ref: DocumentRef) -> DocumentInfo:
        return await self._work(DocumentInfo, "resume_document", ref)

    async def list_documents(self, caller: Caller) -> list[DocumentInfo]:
        answer = await self._call("list_documents", caller.model_dump_json())
        return [DocumentInfo.model_validate(item) for item in parse_internal(answer, field="list_documents answer")]

    async def get_document(self, ref: DocumentRef) -> DocumentInfo:
        return await self._model(DocumentInfo, "get_document", ref.model_dump_json())

    async def delete_document(self, ref: DocumentRef) -> bool:
        return parse_internal(await self._call("delete_document", ref.model_dump_json()), field="delete_document answer") is True

    async def search(self, request: SearchRequest) -> SearchResult:
        return await self._work(SearchResult, "search", request)

    async def batch_status(self, ref: BatchRef) -> BatchStatus:
        return await self._model(BatchStatus, "batch_status", ref.model_dump_json())

    async def unindexed_batches(self) -> list[UnindexedBatch]:
        answer = await self._call("unindexed_batches")
        return [UnindexedBatch.model_validate(item) for item in parse_internal(answer, field="unindexed_batches answer")]

    async def get_metrics(self, query: MetricQuery) -> MetricSeries:
        return await self._model(MetricSeries, "get_metrics", query.model_dump_json())

    async def list_events(self, query: EventQuery) -> EventPage:
        return await self._model(EventPage, "list_events", query.model_dump_json())
