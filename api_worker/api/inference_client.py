"""The api worker's one way to the inference service: `InferenceClient`, a typed method per RPC
that shared/rpc.py declares (tests/unit/test_rpc_contract.py checks they agree), over the
INFERENCE service binding. It owns what every call needs: the deadline (a timeout is a 504), the
conversion of arguments and answers (shared/rpc.py's codec), the admission a work call carries
and the window its answer brings back (api/admission.py), and the failures, turned into the
api's errors: an exception in the service is a 502 (its traceback goes to the log, not the
client), a ServiceFailure is the status its code names (502, 503 with Retry-After, 504)."""

import asyncio
import copy
from typing import TYPE_CHECKING, Any

from api.backends import BackendPool
from shared import clock
from shared.analytics import EventPage, EventQuery, MetricQuery, MetricSeries
from shared.contract import (
    AdmissionRequest,
    AdmissionResult,
    Alert,
    AlertQuery,
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
    KeyPolicyChange,
    KeyRotation,
    KeySpec,
    RateWindow,
    UnindexedBatch,
    UsageReport,
    WorkRequest,
)
from shared.documents import DocumentInfo, DocumentRef, DocumentRequest, SearchRequest, SearchResult
from shared.errors import ApiError, ErrorCode
from shared.payloads import PayloadLog, PayloadRef
from shared.rpc import METHODS, Method, decode_answer
from shared.sdk import runtime_env

if TYPE_CHECKING:
    from api.admission import Admission


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

    def __init__(self, env: Any, pool: BackendPool, request_id: str, timeout_ms: float, traceparent: str | None = None,
                 keep_payload: bool = True) -> None:
        self.bindings = runtime_env(env)  # the runtime's service bindings: their stubs take and give JSON text as is
        self.pool = pool
        self.request_id = request_id
        self.timeout_ms = timeout_ms
        self.traceparent = traceparent  # the api's span, which every work call carries to the service
        self.keep_payload = keep_payload
        self._plan: list[str] | None = None  # the backends this request tries, in order
        self.backend: str | None = None  # the one that answered last
        self.failovers: list[str] = []  # "<backend>: <why>", for each attempt passed over
        self._observing = False  # True: calls leave the backends' circuits as they are

    def pinned(self, backend: str) -> "InferenceClient":
        """A client of `backend` alone, whatever its circuit says, which its calls leave as it is:
        a look at the backend (the deep health check), not a request the rotation sends it."""
        client = copy.copy(self)
        client._plan, client._observing, client.failovers = [backend], True, []
        return client

    async def _invoke(self, name: str, *arguments: Any, admission: "Admission | None" = None) -> Any:
        """Calls the RPC method `name` on this request's backend, and on the next one while they
        fail (if the method may be sent again). A work call carries the request's admission, if it
        was left to it, every time, naming its backend: a backend that failed may or may not have
        counted it, and the key's counter counts a request id once (inference/counter.py), so the
        request is counted exactly once. The answer's window goes to the admission."""
        method = METHODS[name]
        if self._plan is None:
            self._plan = self.pool.plan(clock.monotonic())
        work: WorkRequest | None = None
        if method.work:
            work = arguments[0].model_copy(update={"admission": admission.carried() if admission is not None else None,
                                                   "traceparent": self.traceparent, "keep_payload": self.keep_payload})
        last: BackendFailed | None = None
        for backend in list(self._plan):
            if work is not None:
                arguments = (work.model_copy(update={"backend": backend, "failovers": len(self.failovers)}),)
            try:
                result = await self._attempt(backend, method, method.encode_arguments(*arguments), admission)
            except BackendFailed as failed:
                if not self._observing:
                    self.pool.failed(backend, clock.monotonic())
                self._plan.remove(backend)
                self.failovers.append(f"{backend}: {failed.error.message}")
                last = failed
                if method.failover:
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
        if not self._observing:
            self.pool.succeeded(backend)
        self.backend = backend

    async def _attempt(self, backend: str, method: Method, wire: tuple, admission: "Admission | None") -> Any:
        timeout = self.timeout_ms / 1000
        try:
            # The request id last, for the service's log line of this call (inference/log.py).
            answer = await asyncio.wait_for(getattr(getattr(self.bindings, backend), method.name)(*wire, self.request_id), timeout)
        except TimeoutError:
            raise BackendFailed(ApiError(ErrorCode.UPSTREAM_TIMEOUT, f"The inference service did not answer within {timeout:g} s",
                                         headers={"retry-after": "1"})) from None
        except Exception as exc:
            # The message can hold the other worker's traceback: it goes to the log, not the client.
            print(f"request {self.request_id}: {backend}.{method.name} raised {type(exc).__name__}: {exc}")
            raise BackendFailed(ApiError(ErrorCode.UPSTREAM_ERROR, "The inference service failed; the error is logged",
                                         request_id=self.request_id)) from None
        envelope = decode_answer(method, answer)
        if admission is not None:
            admission.answered(envelope.window if not method.streams or envelope.failure else _window_of(envelope.result))
        if (failure := envelope.failure) is not None:
            error = refused(failure.code, failure.message, failure.reason, failure.retry_after, **failure.details)
            if error.status >= 500:
                raise BackendFailed(error)
            raise error
        return envelope.result

    def _with_deadline(self, request: GenerationRequest) -> GenerationRequest:
        return request.model_copy(update={"deadline_ms": service_deadline_ms(self.timeout_ms)})

    async def health(self, deep: bool) -> HealthReport:
        return await self._invoke("health", deep)

    async def admit(self, request: AdmissionRequest) -> AdmissionResult:
        return await self._invoke("admit", request)

    async def get_usage(self, caller: Caller) -> UsageReport:
        return await self._invoke("get_usage", caller)

    async def create_key(self, spec: KeySpec) -> CreatedKey:
        return await self._invoke("create_key", spec)

    async def list_keys(self) -> list[KeyInfo]:
        return await self._invoke("list_keys")

    async def revoke_key(self, key_id: str) -> bool:
        return await self._invoke("revoke_key", key_id)

    async def set_key_policy(self, change: KeyPolicyChange) -> KeyInfo:
        return await self._invoke("set_key_policy", change)

    async def rotate_key(self, rotation: KeyRotation) -> CreatedKey:
        return await self._invoke("rotate_key", rotation)

    async def list_alerts(self, query: AlertQuery) -> list[Alert]:
        return await self._invoke("list_alerts", query)

    async def stream_generation(self, request: GenerationRequest, admission: "Admission | None") -> Any:
        """A Response (JS, from the service) whose body streams the answer: passed through, never read."""
        return await self._invoke("stream_generation", self._with_deadline(request), admission=admission)

    async def generate(self, request: GenerationRequest, admission: "Admission | None") -> GenerationResult:
        return await self._invoke("generate", self._with_deadline(request), admission=admission)

    async def embed(self, request: EmbeddingRequest, admission: "Admission | None") -> EmbeddingResult:
        return await self._invoke("embed", request, admission=admission)

    async def process_events(self, batch: EventBatch, admission: "Admission | None") -> BatchResult:
        return await self._invoke("process_events", batch, admission=admission)

    async def batch_status(self, ref: BatchRef) -> BatchStatus:
        return await self._invoke("batch_status", ref)

    async def unindexed_batches(self) -> list[UnindexedBatch]:
        return await self._invoke("unindexed_batches")

    async def replay_unindexed(self) -> dict[str, int]:
        return await self._invoke("replay_unindexed")

    async def get_metrics(self, query: MetricQuery) -> MetricSeries:
        return await self._invoke("get_metrics", query)

    async def list_events(self, query: EventQuery) -> EventPage:
        return await self._invoke("list_events", query)

    async def store_document(self, request: DocumentRequest, admission: "Admission | None") -> DocumentInfo:
        return await self._invoke("store_document", request, admission=admission)

    async def resume_document(self, ref: DocumentRef, admission: "Admission | None") -> DocumentInfo:
        return await self._invoke("resume_document", ref, admission=admission)

    async def list_documents(self, caller: Caller) -> list[DocumentInfo]:
        return await self._invoke("list_documents", caller)

    async def get_document(self, ref: DocumentRef) -> DocumentInfo:
        return await self._invoke("get_document", ref)

    async def delete_document(self, ref: DocumentRef) -> bool:
        return await self._invoke("delete_document", ref)

    async def search(self, request: SearchRequest, admission: "Admission | None") -> SearchResult:
        return await self._invoke("search", request, admission=admission)

    async def get_payload(self, ref: PayloadRef) -> PayloadLog:
        return await self._invoke("get_payload", ref)


def _window_of(response: Any) -> RateWindow | None:
    """A streamed answer's window: in its headers, when its call admitted the request."""
    if not (limit := response.headers.get("x-ratelimit-limit")):
        return None
    return RateWindow(limit=int(limit), remaining=int(response.headers.get("x-ratelimit-remaining")),
                      reset_seconds=int(response.headers.get("x-ratelimit-reset")))
