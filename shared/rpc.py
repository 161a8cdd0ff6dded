"""The inference service's RPC surface, declared once: `METHODS`, what `InferenceService` (the
private worker's entrypoint, inference_worker/entry.py) answers and `InferenceClient` (the api
worker's, api_worker/api/inference_client.py) asks, method by method: its arguments' contract
models, what it answers, whether it is a work call (it carries the request's admission), and
whether the api may send it again to another backend. tests/unit/test_rpc_contract.py checks
both classes against it.

Over the service binding the models travel as JSON text: structured clone refuses custom
objects, and a string crosses between Python and JavaScript in one step where a dict is
converted value by value in both workers. Every call also ends with the api's request id (a
string the declaration leaves out), for the service's JSON log line of the call
(inference_worker/inference/log.py). Every answer but a stream is an envelope (`Envelope`):
`result`, or `failure` (a ServiceFailure the api answers as an HTTP error), and `window`, the
caller's rate window when the call admitted the request. A streamed generation answers a
Response: its window is in its x-ratelimit-* headers, a failure before its first token is an
envelope. `encode_*` and `decode_answer` are the only conversions of answers."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel

from shared.analytics import EventPage, EventQuery, MetricQuery, MetricSeries
from shared.base import Model
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
    ServiceFailure,
    UnindexedBatch,
    UsageReport,
)
from shared.documents import DocumentInfo, DocumentRef, DocumentRequest, SearchRequest, SearchResult
from shared.json_reader import parse_internal_as
from shared.payloads import PayloadLog, PayloadRef

Result = TypeVar("Result")
STREAM = None  # what a streaming method declares as its result: a Response, not JSON


class Envelope(Model, Generic[Result]):
    """One answer as it crosses the binding: its result or its failure, and the caller's window."""

    result: Result | None = None
    failure: ServiceFailure | None = None
    window: RateWindow | None = None


@dataclass(frozen=True)
class Method:
    name: str
    # (name, type) of each argument, in order: a contract model (sent as its JSON text), or a str or bool as is.
    arguments: tuple[tuple[str, type], ...]
    result: Any  # a model, a list of one, bool, a dict; STREAM for a Response
    envelope: type[Envelope[Any]]  # its answer as it crosses, made (and its validator built) at import
    work: bool = False  # carries the request's admission (its one argument is a WorkRequest)
    failover: bool = True  # may be sent again to the next backend if this one fails
    # Reads what model calls recorded (usage, spend, metrics, alerts): the service writes its
    # isolate's batch of them first (inference/usage_batch.py), so a caller reads its own calls.
    reads_usage: bool = False

    @property
    def streams(self) -> bool:
        return self.result is STREAM

    def encode_arguments(self, *values: Any) -> tuple[Any, ...]:
        """The caller's arguments as they cross: each model as its JSON text."""
        return tuple(value.model_dump_json() if isinstance(value, BaseModel) else value for value in values)

    def decode_arguments(self, *wire: Any) -> tuple[Any, ...]:
        """The arguments as the service receives them (JSON text read under the reader's budget),
        as their declared types; a str or bool as is."""
        if len(wire) != len(self.arguments):
            raise TypeError(f"{self.name} takes {len(self.arguments)} arguments, not {len(wire)}")
        return tuple(kind(value) if kind in (str, bool) else parse_internal_as(kind, value, field=f"{self.name}.{name}")
                     for (name, kind), value in zip(self.arguments, wire, strict=True))


def _method(name: str, *arguments: tuple[str, type], result: Any, work: bool = False, failover: bool = True,
            reads_usage: bool = False) -> Method:
    envelope = Envelope[None] if result is STREAM else Envelope.__class_getitem__(result)  # a type known at run time only
    return Method(name, arguments, result, cast(type[Envelope[Any]], envelope), work, failover, reads_usage)


METHODS: dict[str, Method] = {method.name: method for method in (
    # `deep`: the admin's check, which writes (KV, Analytics Engine) and calls a model.
    _method("health", ("deep", bool), result=HealthReport),
    _method("admit", ("request", AdmissionRequest), result=AdmissionResult),
    _method("get_usage", ("caller", Caller), result=UsageReport, reads_usage=True),
    # Not sent again to another backend: a key created by one that failed to answer would be a second key.
    _method("create_key", ("spec", KeySpec), result=CreatedKey, failover=False),
    _method("list_keys", result=list[KeyInfo], reads_usage=True),
    _method("revoke_key", ("key_id", str), result=bool),
    _method("set_key_policy", ("change", KeyPolicyChange), result=KeyInfo),
    # Not sent again: a rotation answered by a backend that then failed would leave a secret nobody holds.
    _method("rotate_key", ("rotation", KeyRotation), result=CreatedKey, failover=False),
    _method("list_alerts", ("query", AlertQuery), result=list[Alert], reads_usage=True),
    # A Response whose body streams the answer in the request's protocol (x-model, x-cache).
    _method("stream_generation", ("request", GenerationRequest), result=STREAM, work=True),
    _method("generate", ("request", GenerationRequest), result=GenerationResult, work=True),
    _method("embed", ("request", EmbeddingRequest), result=EmbeddingResult, work=True),
    _method("process_events", ("batch", EventBatch), result=BatchResult, work=True),
    # Event batches: one as indexed (or not yet), those waiting for the replay, and the replay itself (admin).
    _method("batch_status", ("ref", BatchRef), result=BatchStatus),
    _method("unindexed_batches", result=list[UnindexedBatch]),
    _method("replay_unindexed", result=dict[str, int]),
    _method("get_metrics", ("query", MetricQuery), result=MetricSeries, reads_usage=True),
    _method("list_events", ("query", EventQuery), result=EventPage),
    # Documents for retrieval (shared/documents.py); a failed ingestion answers its DocumentInfo.
    _method("store_document", ("request", DocumentRequest), result=DocumentInfo, work=True),
    _method("resume_document", ("ref", DocumentRef), result=DocumentInfo, work=True),
    _method("list_documents", ("caller", Caller), result=list[DocumentInfo]),
    _method("get_document", ("ref", DocumentRef), result=DocumentInfo),
    _method("delete_document", ("ref", DocumentRef), result=bool),
    _method("search", ("request", SearchRequest), result=SearchResult, work=True),
    # One call's kept prompt and answer (admin; shared/payloads.py).
    _method("get_payload", ("ref", PayloadRef), result=PayloadLog),
)}


def encode_result(method: Method, result: Any, window: RateWindow | None) -> Any:
    """The service's answer of `method`: its envelope as JSON text, or a stream's Response as is."""
    if method.streams:
        return result
    return method.envelope(result=result, window=window).model_dump_json()


def encode_failure(failure: ServiceFailure, window: RateWindow | None) -> str:
    return Envelope(failure=failure, window=window).model_dump_json()


def decode_answer(method: Method, answer: Any) -> Envelope[Any]:
    """What the service answered to `method`, read under the reader's budget; a stream's Response
    as the result of an envelope made here (its window is in its headers)."""
    if method.streams and not isinstance(answer, str):
        return Envelope.model_construct(result=answer, failure=None, window=None)
    return parse_internal_as(method.envelope, answer, field=f"{method.name} answer")
