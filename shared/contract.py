"""Arguments and results of the inference service's RPC methods (shared/rpc.py declares which
method takes and answers which, and how they cross the binding: as JSON text)."""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from shared.base import Model
from shared.capabilities import context_problem
from shared.errors import ApiError, ErrorCode
from shared.events import Event, group_counts, to_ndjson
from shared.images import IMAGE_PROMPT_CHARS, check_url
from shared.limits import (
    MAX_EMBEDDING_INPUT_CHARS,
    MAX_EMBEDDING_INPUTS,
    MAX_IMAGES,
    MAX_LEASE_SIZE,
    MAX_MESSAGES,
    MAX_OUTPUT_TOKENS,
    MAX_TOOLS,
    MAX_TOP_K,
)
from shared.models import CATALOG
from shared.policy import KeyPolicy
from shared.tiers import TierLimits
from shared.tracing import MAX_HEADER_CHARS


class BindingStatus(Model):
    ok: bool
    latency_ms: float = Field(ge=0)
    error: str | None = None
    # False where the public check does not probe (a write, a billed call): the last deep check's
    # result is shown if there was one in this isolate, else ok with checked false.
    checked: bool = True


class CircuitStatus(Model):
    """A circuit breaker's state (shared/breaker.py) and its failures in a row."""

    state: Literal["closed", "open", "half_open"]
    failures: int = Field(ge=0)


class HealthReport(Model):
    service: str
    version: str
    python: str
    runtime: str
    request_id: str
    ok: bool
    bindings: dict[str, BindingStatus]
    # Each external provider's circuit in the isolate that answered (inference/circuits.py).
    providers: dict[str, CircuitStatus] = {}


StreamProtocol = Literal["ui", "text", "openai", "openai-completion", "openai-responses"]


class Caller(Model):
    key_id: str
    tier: str = "free"
    # The key's own limits (shared/policy.py), as its admission found them: none for a JWT's caller.
    policy: KeyPolicy | None = None


TOOL_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # OpenAI's rule for function names, which Workers AI follows


class ToolCall(Model):
    """A function call a model made: its arguments as JSON text, as both dialects carry them."""

    id: str = Field(min_length=1, max_length=128)
    name: str = Field(pattern=TOOL_NAME_PATTERN)
    arguments: str = "{}"

    def chars(self) -> int:
        """The characters of the call as a model writes (or reads) it: its name and arguments."""
        return len(self.name) + len(self.arguments)


class ImageInput(Model):
    """An image in a user message: a `data:` URL (base64), or an http(s) URL the inference service
    fetches within its size and time limits (shared/images.py says what is accepted)."""

    url: str = Field(min_length=1)
    # Where the caller put it (`messages.0.content.1`): an error about the image names that part.
    field: str | None = None

    @field_validator("url")
    @classmethod
    def _an_image(cls, url: str) -> str:
        check_url(url)
        return url


class ChatMessage(Model):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = []  # an assistant's: the calls it made
    tool_call_id: str | None = None  # a tool result's: the call it answers
    images: list[ImageInput] = []  # a user's

    def prompt_chars(self) -> int:
        """The characters this message puts in the model's prompt, an image counted as
        IMAGE_PROMPT_CHARS (shared/images.py)."""
        return len(self.content) + sum(c.chars() for c in self.tool_calls) + len(self.images) * IMAGE_PROMPT_CHARS

    @model_validator(mode="after")
    def _images_from_the_user(self) -> "ChatMessage":
        if self.images and self.role != "user":
            raise ValueError(f"images are read in user messages only, not in a {self.role} message")
        return self


class FunctionTool(Model):
    """A function the model may call, as OpenAI's `tools[].function` describes it."""

    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str | None = Field(default=None, max_length=4096)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    def prompt_chars(self) -> int:
        """The characters this definition puts in the model's prompt."""
        return len(self.name) + len(self.description or "") + len(str(self.parameters))


class ToolChoice(Model):
    """Whether the model may (`auto`), must not (`none`) or must (`required`) call a tool, or must
    call the one named (`function`)."""

    mode: Literal["auto", "none", "required", "function"] = "auto"
    name: str | None = None

    def problem_with(self, tools: list[FunctionTool]) -> str | None:
        """Why this choice cannot be honoured with these tools, if it cannot."""
        if self.mode in ("required", "function") and not tools:
            return "asks for a tool call, but no tools are given"
        if self.mode == "function" and self.name not in {t.name for t in tools}:
            return f"names {self.name!r}, which is not one of the tools"
        return None


AdmissionKind = Literal["ai", "events", "read"]


class AdmissionRequest(Model):
    """One authenticated request asking to proceed: an API key (by prefix and hash) to verify,
    or a caller the api already verified (a JWT's subject)."""

    request_id: str
    kind: AdmissionKind
    key_prefix: str | None = None
    key_hash: str | None = None
    caller: Caller | None = None
    # Slots of the rate window to take, this request's first: a read request asks for more, which
    # the api then uses for the caller's next reads (shared/leases.py). Granted as far as the limit allows.
    reserve: int = Field(default=1, ge=1, le=MAX_LEASE_SIZE)
    # An event batch's events, reserved of the day's event quota as it is admitted
    # (shared/reservations.py) under `reservation_id` (its batch id: a batch sent again holds them
    # once), and the events to hold for the batches its slots taken ahead will admit.
    events: int = Field(default=0, ge=0)
    reservation_id: str | None = Field(default=None, max_length=64)
    events_ahead: int = Field(default=0, ge=0)


class RateWindow(Model):
    limit: int
    remaining: int
    reset_seconds: int


class WorkRequest(Model):
    """What every work call carries besides its work: who asks, the admission the api left to this
    call (one RPC instead of two), and which backend the api sent it to after how many failovers
    (for the usage record and the Analytics Engine point)."""

    request_id: str
    caller: Caller
    admission: AdmissionRequest | None = None
    backend: str | None = None
    failovers: int = 0
    # The api's span of the request (shared/tracing.py), as the W3C header of a request made from it:
    # the service's call is its child, and a provider's request the call's.
    traceparent: str | None = Field(default=None, max_length=MAX_HEADER_CHARS)
    # False when the caller asked that this request's prompt and answer not be kept (payload logs,
    # inference/payloads.py), even where its key or tier keeps them.
    keep_payload: bool = True


class Retrieval(Model):
    """The retrieval option of a generation: passages from the caller's documents (all of them,
    or those named) ground the answer and are cited."""

    documents: list[str] | None = Field(default=None, max_length=100)
    top_k: int = Field(default=4, ge=1, le=MAX_TOP_K)
    # Cosine similarity; bge-base scores passages that answer a question about 0.6 to 0.9.
    min_score: float = Field(default=0.5, ge=-1, le=1)


class Source(Model):
    """A passage found for a query."""

    id: str  # the passage: <document id>#<n>
    document_id: str
    title: str
    passage: int
    score: float
    text: str


StopSequence = Annotated[str, Field(min_length=1, max_length=100)]


class Sampling(Model):
    """The sampling options of a generation besides temperature and max_tokens, in Workers AI's
    names and ranges (shared/models.py says which models take which)."""

    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=1, le=50)
    seed: int | None = Field(default=None, ge=1, le=9_999_999_999)
    repetition_penalty: float | None = Field(default=None, ge=0, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    # Cut the answer before the first of these (the service does it: Workers AI takes no stop sequences).
    stop: list[StopSequence] | None = Field(default=None, min_length=1, max_length=4)

    def model_options(self) -> dict[str, Any]:
        """The options the model itself is given (stop sequences are the service's)."""
        return {k: v for k, v in self.model_dump(exclude={"stop"}).items() if v is not None}


# AI Gateway's bounds for a cached answer's life (cf-aig-cache-ttl); KV keeps nothing for under 60 s.
MIN_CACHE_TTL_SECONDS = 60
MAX_CACHE_TTL_SECONDS = 2_592_000  # 30 days

CacheState = Literal["hit", "semantic", "miss", "bypass"]


class CacheControl(Model):
    """The caller's say over the generation cache (the x-cache-skip and x-cache-ttl headers)."""

    skip: bool = False  # neither served from the cache nor kept in it
    ttl_seconds: int | None = Field(default=None, ge=MIN_CACHE_TTL_SECONDS, le=MAX_CACHE_TTL_SECONDS)
class ArmChoice(Model):
    """The traffic split's arm a generation was put on (shared/splits.py): by the inference worker,
    never the api; kept in the call's record."""

    split: str
    arm: str
    model: str
    provider: str | None = None  # tried first when set


class GenerationRequest(WorkRequest):
    kind: Literal["chat", "completion", "object"]
    model: str
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int = Field(ge=1, le=MAX_OUTPUT_TOKENS)
    sampling: Sampling = Sampling()
    json_schema: dict[str, Any] | None = None
    # Passages of the caller's documents to ground the answer in (shared/documents.py).
    retrieval: Retrieval | None = None
    # The caller's hint for provider routing (shared/routing.py): "high" may go to a larger provider.
    complexity: Literal["low", "normal", "high"] | None = None
    # None: answer once, as a GenerationResult; otherwise stream in this protocol.
    protocol: StreamProtocol | None = None
    include_usage: bool = False
    stream_id: str
    # How long the caller waits (for a stream: for its first token). Past it the service stops
    # waiting for the model, cancels what it can, records the call as a timeout and says so.
    deadline_ms: int | None = Field(default=None, ge=1)
    # Functions the model may call (shared/models.py says which models can), and how.
    tools: list[FunctionTool] = Field(default=[], max_length=MAX_TOOLS)
    tool_choice: ToolChoice = ToolChoice()
    parallel_tool_calls: bool = True
    cache: CacheControl = CacheControl()
    # A stream whose model fails or stalls after sending text is taken up by the next model of
    # its chain (inference/continuation.py); False: it ends with an error part instead.
    continuation: bool = True
    arm: ArmChoice | None = None

    @model_validator(mode="after")
    def _within_context_window(self) -> "GenerationRequest":
        model = CATALOG.get(self.model)
        if model and (problem := context_problem(model, self.prompt_chars())):
            raise ValueError(f"messages {problem}")
        return self

    @model_validator(mode="after")
    def _tool_choice_names_a_tool(self) -> "GenerationRequest":
        if problem := self.tool_choice.problem_with(self.tools):
            raise ValueError(f"tool_choice {problem}")
        return self

    @model_validator(mode="after")
    def _images_within_limit(self) -> "GenerationRequest":
        if (count := sum(len(m.images) for m in self.messages)) > MAX_IMAGES:
            raise ValueError(f"messages hold {count} images; the limit is {MAX_IMAGES}")
        return self

    def prompt_chars(self) -> int:
        """The characters of the prompt: messages, tool calls and the tools' definitions."""
        return sum(m.prompt_chars() for m in self.messages) + sum(t.prompt_chars() for t in self.tools)

    def uses_tools(self) -> bool:
        """Whether the model is given tools, or the conversation holds tool calls or results."""
        return bool(self.tools) or any(m.tool_calls or m.role == "tool" for m in self.messages)

    def has_images(self) -> bool:
        return any(m.images for m in self.messages)

    def options_set(self) -> set[str]:
        """The sampling options this request sets (shared/models.py SAMPLING_OPTIONS)."""
        given = {k for k, v in self.sampling.model_dump().items() if v is not None}
        return given | {"max_tokens"} | ({"temperature"} if self.temperature is not None else set())


class GenerationResult(Model):
    model: str
    provider: str = "workers-ai"
    sources: list[Source] = []  # the passages the answer was grounded in (retrieval)
    text: str
    tool_calls: list[ToolCall] = []  # the functions the model called (finish_reason "tool_calls")
    usage: dict[str, int]
    finish_reason: str
    cached: bool = False  # served from the cache, exactly or semantically
    cache: CacheState = "bypass"
    cache_score: float | None = None  # a semantic hit's similarity to the question it was the answer to


class ServiceFailure(Model):
    """A failure the api answers as an HTTP error: a model that failed before its first
    token, or storage that could not take a batch. Crosses the binding as its answer's `failure`
    (shared/rpc.py)."""

    code: ErrorCode
    message: str
    retry_after: int | None = None
    reason: str | None = None  # a refused admission's reason (rate_limit, token_quota, revoked_key, ...)
    details: dict[str, Any] = {}  # what the error names besides its message (field, models, limit)

    @classmethod
    def refusing(cls, error: ApiError) -> "ServiceFailure":
        """A refusal of the request the service decided (an ApiError's code, message and details)."""
        return cls(code=error.code, message=error.message, details=error.details)


class ServiceFailed(Exception):
    """How the inference worker's code reports a ServiceFailure: raised anywhere below an RPC
    method, answered as its failure by its entrypoint alone (inference_worker/entry.py)."""

    def __init__(self, failure: ServiceFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class EmbeddingRequest(WorkRequest):
    model: str
    texts: list[str] = Field(min_length=1, max_length=MAX_EMBEDDING_INPUTS)
    # The vectors as JSON text (EmbeddingResult.vectors_json: shared/embeddings.py), for an answer
    # that writes them as they are; else as numbers (an older api asks so, by not asking).
    vectors_as_json: bool = False

    @field_validator("texts")
    @classmethod
    def _within_text_limit(cls, texts: list[str]) -> list[str]:
        for index, text in enumerate(texts):
            if len(text) > MAX_EMBEDDING_INPUT_CHARS:
                raise ValueError(f"input {index} holds {len(text)} characters; the limit is {MAX_EMBEDDING_INPUT_CHARS}")
        return texts


class EmbeddingResult(Model):
    model: str
    vectors: list[list[float]] | None = None  # unless the request asked for vectors_as_json
    vectors_json: str | None = None  # the vectors as the runtime wrote them: a JSON list of number lists
    usage: dict[str, int]


# --- access ---------------------------------------------------------------------------------



class AdmissionResult(Model):
    allowed: bool
    caller: Caller | None = None
    # When refused: unauthorized (unknown or revoked key) or rate_limited (window or quota).
    code: ErrorCode | None = None
    reason: str | None = None
    message: str | None = None
    retry_after: int | None = None
    window: RateWindow | None = None  # as this request leaves it (slots granted beyond it count as remaining)
    granted: int = 0  # slots taken for the caller, this request's included (AdmissionRequest.reserve)
    events_ahead: int = 0  # an event batch's: events held for the batches its slots taken ahead admit
    # The caller's limits (its tier's, with the deployment's TIER_* vars, narrowed by its key's
    # policy), once it is known: what the api checks the request against (the model, the batch
    # size) and leases slots by.
    limits: TierLimits | None = None
    # When the credential presented stops being valid (unix seconds: a key's expiry, a rotated
    # key's old secret's grace), if it does: the api trusts it no longer than that.
    valid_until: float | None = None


class KeySpec(Model):
    name: str = Field(min_length=1, max_length=100)
    tier: Literal["free", "pro", "enterprise"] = "free"
    policy: KeyPolicy | None = None


class KeyPolicyChange(Model):
    """A key's new policy (None: its tier's limits only), set by the admin."""

    key_id: str = Field(min_length=1, max_length=64)
    policy: KeyPolicy | None = None


class KeyRotation(Model):
    """A new secret for a key; the old one stays valid `grace_seconds` (0: not at all)."""

    key_id: str = Field(min_length=1, max_length=64)
    grace_seconds: int = Field(default=3600, ge=0, le=30 * 86_400)


class Budget(Model):
    """A key's spend against its own budget, in the current period (shared/policy.py)."""

    limit_usd: float
    soft_limit_usd: float | None = None
    period: str
    period_start: str  # its first day (UTC)
    spent_usd: float
    remaining_usd: float


class KeyInfo(Model):
    id: str
    prefix: str
    name: str
    tier: str
    created_at: str
    revoked_at: str | None = None
    policy: KeyPolicy | None = None
    rotated_at: str | None = None
    previous_valid_until: str | None = None  # a rotated key's old secret works until then
    budget: Budget | None = None  # its spend against its own budget, where it has one


class Alert(Model):
    """A limit a key reached: its soft budget, or 80% or 100% of a quota or budget, once a period."""

    key_id: str
    kind: str
    period: str
    limit_value: float
    value: float
    created_at: str
    delivered_at: str | None = None


class AlertQuery(Model):
    """Alerts newest first: one key's, or (the admin's, key_id None) every key's."""

    key_id: str | None = Field(default=None, max_length=64)
    first: int = Field(default=50, ge=1, le=100)


class CreatedKey(KeyInfo):
    key: str  # shown once, never stored


class Spend(Model):
    """What one model cost a caller on one day, with one provider."""

    day: str
    model: str
    provider: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class UsageReport(Model):
    key_id: str
    tier: str
    day: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cache_hits: int
    events: int
    cost_usd: float = 0.0  # today's spend on models
    spend: list[Spend] = []  # per day and model, the last seven days, newest first
    limits: dict[str, Any]
    window: RateWindow
    policy: KeyPolicy | None = None  # the key's own limits, if it has any
    budget: Budget | None = None  # the key's spend against its own budget, if it has one


# --- events and analytics -------------------------------------------------------------------


class EventBatch(WorkRequest):
    """A batch the api has validated event by event (shared/events.py): the service archives and
    indexes it as it comes, without reading the events again."""

    batch_id: str
    received_at: int  # unix milliseconds
    ndjson: str = Field(min_length=2)  # the accepted events, one Event a line, as archived in R2
    count: int = Field(ge=1)  # how many lines
    groups: list[tuple[str, str, int]] = []  # (type, component or "", count), the most frequent first

    @model_validator(mode="before")
    @classmethod
    def _from_event_list(cls, data: Any) -> Any:
        """A batch from an api deployed before this form (deploys update the backends first): its
        events as a list of Event objects."""
        if isinstance(data, dict) and "ndjson" not in data and isinstance(data.get("events"), list):
            events = [Event.model_validate(event) for event in data["events"]]
            data = {**data, "ndjson": to_ndjson(events), "count": len(events), "groups": group_counts(events)}
            data.pop("events")
        return data


class BatchResult(Model):
    batch_id: str
    received: int
    # Known once the batch is indexed in D1; None while it waits in the queue or for the replay.
    accepted: int | None
    duplicates: int | None
    indexed: bool
    queued: bool = False  # handed to the queue consumer, which indexes it shortly


class BatchRef(Model):
    caller: Caller
    batch_id: str = Field(min_length=1, max_length=64)


class UnindexedBatch(Model):
    """A stored batch waiting for the replay (its D1 indexing failed, or the queue gave up on it)."""

    batch_id: str
    key_id: str
    received_at: int
    reason: str


class BatchStatus(Model):
    """A batch as indexed (GET /events/batches/{id}): until it is, only `indexed: false`."""

    batch_id: str
    indexed: bool
    received: int | None = None
    accepted: int | None = None  # its events that were new
    duplicates: int | None = None  # its events indexed before (a retry, or ids sent twice)
    indexed_at: str | None = None
