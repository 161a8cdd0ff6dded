"""The inference service's RPC surface, declared once: what `InferenceService` (the private
worker's entrypoint, inference_worker/entry.py) answers and what `InferenceClient` (the api
worker's, api_worker/api/inference_client.py) asks, method by method, in contract models.

Over the service binding the models travel as JSON text (`model_dump_json`, parsed back with
`model_validate_json`): structured clone refuses custom objects, and a string crosses between
Python and JavaScript in one step where a dict is converted value by value in both workers;
the entrypoint and the client are the only places that convert. A streamed generation answers
a Response. Every call also ends with the api's request id (a string the protocol below leaves
out), for the service's JSON log line of the call (inference_worker/inference/log.py). A
method that can fail in a way the client must tell the user answers `{"failure": ...}` (a
ServiceFailure) instead of its result; the client turns that into the api's error."""

from typing import Any, Protocol

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
    UnindexedBatch,
    UsageReport,
)
from shared.documents import DocumentInfo, DocumentRef, DocumentRequest, SearchRequest, SearchResult


class Inference(Protocol):
    # `deep`: the admin's check, which writes (KV, Analytics Engine) and calls a model.
    async def health(self, request_id: str, deep: bool = False) -> HealthReport: ...

    async def admit(self, request: AdmissionRequest) -> AdmissionResult: ...

    async def get_usage(self, caller: Caller) -> UsageReport: ...

    async def create_key(self, spec: KeySpec) -> CreatedKey: ...

    async def list_keys(self) -> list[KeyInfo]: ...

    async def revoke_key(self, key_id: str) -> bool: ...

    # A Response whose body streams the answer in the request's protocol (x-model, x-cache).
    async def stream_generation(self, request: GenerationRequest) -> Any: ...

    async def generate(self, request: GenerationRequest) -> GenerationResult: ...

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResult: ...

    async def process_events(self, batch: EventBatch) -> BatchResult: ...

    # Event batches: one as indexed (or not yet), and those waiting for the replay (admin).
    async def batch_status(self, ref: BatchRef) -> BatchStatus: ...

    async def unindexed_batches(self) -> list[UnindexedBatch]: ...

    async def get_metrics(self, query: MetricQuery) -> MetricSeries: ...

    async def list_events(self, query: EventQuery) -> EventPage: ...

    # Documents for retrieval (shared/documents.py); a failed ingestion answers its DocumentInfo.
    async def store_document(self, request: DocumentRequest) -> DocumentInfo: ...

    async def resume_document(self, ref: DocumentRef) -> DocumentInfo: ...

    async def list_documents(self, caller: Caller) -> list[DocumentInfo]: ...

    async def get_document(self, ref: DocumentRef) -> DocumentInfo: ...

    async def delete_document(self, ref: DocumentRef) -> bool: ...

    async def search(self, request: SearchRequest) -> SearchResult: ...
