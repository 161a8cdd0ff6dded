"""What every handler gets: `RequestContext`, the request with what the pipeline (app.py)
learned about it, and the ways to answer and to reach the inference service."""

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from api.backends import pool_of
from api.inference_client import InferenceClient
from api.runtime import Response, jsnull
from api.settings import Settings
from shared.contract import Caller
from shared.payloads import PAYLOAD_LOG_HEADER, keeps_payload
from shared.tracing import TraceContext

if TYPE_CHECKING:
    from api.admission import Admission


class RequestHeaders:
    """The request's headers, each read when asked for from the runtime's Headers object (the
    SDK's `request.headers` copies every header into an email.message on each access)."""

    def __init__(self, request: Any) -> None:
        self._headers = request.js_object.headers

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self._headers.get(name)
        return default if value is None or value is jsnull else value  # a missing header is JS null


@dataclass
class RequestContext:
    """What a handler gets: the request, the bindings, and what the pipeline learned."""

    request: Any
    headers: RequestHeaders
    env: Any
    ctx: Any
    settings: Settings
    request_id: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    path_params: dict[str, str] = field(default_factory=dict)  # the route's {name} segments
    caller: Caller | None = None
    credential: str | None = None  # what to log of the credentials: never the secret part
    is_admin: bool = False
    admission: "Admission | None" = None  # the caller's (api/admission.py); none for the admin
    stream_end: Any = None  # a relayed answer's end (a JS promise: api/relay.py), which the log line waits for
    trace: TraceContext | None = None  # the api's span of the request (shared/tracing.py)

    @cached_property
    def inference(self) -> InferenceClient:
        """The inference service, for this request (its deadline, its request id, its span, whether
        its payload may be kept: a bad x-payload-log header is refused before any call)."""
        pool = pool_of(self.env)
        return InferenceClient(self.env, pool, self.request_id, self.settings.inference_timeout_ms,
                               traceparent=self.trace.traceparent if self.trace else None,
                               keep_payload=keeps_payload(self.headers.get(PAYLOAD_LOG_HEADER)))

    @property
    def made_client(self) -> InferenceClient | None:
        """The request's client if a call was made through it (reading `inference` would make one)."""
        return vars(self).get("inference")

    @property
    def default_model(self) -> str:
        return self.settings.default_model

    def json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return json_response(body, status, self.request_id, headers)

    def json_text(self, text: str, status: int = 200) -> Response:
        return json_text_response(text, status, self.request_id)


def json_response(body: Any, status: int, request_id: str, headers: dict[str, str] | None = None) -> Response:
    # pydantic-core writes JSON in Rust: json.dumps spends ~0.6 µs a float in Pyodide, and an
    # embeddings answer holds tens of thousands of them.
    return json_text_response(to_json(body).decode(), status, request_id, headers)


def json_text_response(text: str, status: int, request_id: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer already written (a kept one)."""
    return Response(text, status=status, headers={"content-type": "application/json", "x-request-id": request_id, **(headers or {})})
