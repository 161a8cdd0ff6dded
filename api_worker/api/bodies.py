"""The public request bodies, validated, and turned into the inference service's contract.

Bodies are what the clients send: `useChat` (AI SDK v5+ UI messages), `useCompletion`,
`useObject`, and OpenAI's chat completions and embeddings. A field asking for what the chosen
model or this deployment cannot do (tools, images, a sampling option) is refused naming it, never
dropped (shared/capabilities.py). Otherwise the AI SDK bodies ignore fields they do not know (an
app adds its own through `body`); OpenAI's chat body refuses them, since every field of OpenAI's
request is either honoured or refused. Limits are checked here, before any RPC or model call.
"""

from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from api.refusals import openai_completion_fields, openai_fields, refuse_parts
from shared import json_reader
from shared.base import Model
from shared.capabilities import check_context, check_options, feature_not_offered
from shared.contract import Caller, ChatMessage, EmbeddingRequest, GenerationRequest, Retrieval, Sampling
from shared.errors import ApiError, ErrorCode
from shared.json_schema import schema_problems
from shared.limits import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    MAX_BODY_BYTES,
    MAX_EMBEDDING_INPUT_CHARS,
    MAX_EMBEDDING_INPUTS,
    MAX_MESSAGES,
    MAX_OUTPUT_TOKENS,
)
from shared.models import (
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_TEXT_MODEL,
    EMBEDDING_MODELS,
    TEXT_MODELS,
    UnknownModel,
    resolve,
)
from shared.routing import Complexity
from shared.schemas import NAMED_SCHEMAS


class _Body(Model):
    model_config = ConfigDict(extra="ignore")


class _Generation(_Body):
    model: str | None = None
    system: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    # The AI SDK's name; `maxTokens` (its name before v5, and what many clients still send) too.
    maxOutputTokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS,
                                        validation_alias=AliasChoices("maxOutputTokens", "maxTokens"))
    complexity: Complexity | None = None  # a hint for provider routing (shared/routing.py)
    retrieval: Retrieval | None = None  # ground the answer in the caller's documents (shared/documents.py)
    # The AI SDK's call settings (ranges checked as the contract's: shared/contract.py Sampling).
    topP: float | None = None
    topK: int | None = None
    seed: int | None = None
    stopSequences: list[str] | None = None
    frequencyPenalty: float | None = None
    presencePenalty: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_tools(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for field in ("tools", "toolChoice"):
                if data.get(field) not in (None, [], {}):
                    raise feature_not_offered(field, "tools")
        return data

    def sampling_fields(self) -> dict[str, tuple[str, Any]]:
        return {"topP": ("top_p", self.topP), "topK": ("top_k", self.topK), "seed": ("seed", self.seed),
                "stopSequences": ("stop", self.stopSequences), "frequencyPenalty": ("frequency_penalty", self.frequencyPenalty),
                "presencePenalty": ("presence_penalty", self.presencePenalty), "temperature": ("temperature", self.temperature),
                "maxOutputTokens": ("max_tokens", self.maxOutputTokens)}


class UIPart(_Body):
    type: str
    text: str | None = None
    mediaType: str | None = None


class UIMessage(_Body):
    id: str | None = None
    role: Literal["system", "user", "assistant"]
    parts: list[UIPart]


def _ui_message(message: Any, index: int) -> Any:
    """A message as `useChat` sends it: `{id, role, parts}`, or `{role, content}` as older
    clients do (content a string or a list of parts); refused if it carries what cannot be sent on."""
    if not isinstance(message, dict):
        return message
    field = f"messages.{index}"
    if message.get("role") == "tool":
        raise feature_not_offered(f"{field}.role", "tools")
    if "parts" not in message and "content" in message:
        content = message["content"]
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        message = {**{k: v for k, v in message.items() if k != "content"}, "parts": parts}
        field_of_parts = f"{field}.content"
    else:
        field_of_parts = f"{field}.parts"
    refuse_parts(message.get("parts"), field_of_parts)
    return message


class ChatBody(_Generation):
    id: str | None = None
    messages: list[UIMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    trigger: str | None = None
    messageId: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _readable_messages(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("messages"), list):
            data = {**data, "messages": [_ui_message(m, i) for i, m in enumerate(data["messages"])]}
        return data


class CompletionBody(_Generation):
    prompt: str = Field(min_length=1)


class ObjectBody(_Generation):
    prompt: str = Field(min_length=1)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    schemaName: str | None = None

    @model_validator(mode="after")
    def _one_schema(self) -> "ObjectBody":
        if (self.schema_ is None) == (self.schemaName is None):
            raise ValueError("give exactly one of schema (a JSON Schema) or schemaName")
        if self.schemaName is not None and self.schemaName not in NAMED_SCHEMAS:
            raise ValueError(f"unknown schemaName; known: {', '.join(sorted(NAMED_SCHEMAS))}")
        return self


def _checked_schema(schema: Any, field: str) -> dict[str, Any]:
    """A JSON Schema a model will be asked to follow, refused (400, naming the keyword) when
    it is not one: checked before any model call, and before the answer is checked against it."""
    if problems := schema_problems(schema):
        first, _, reason = problems[0].partition(": ")
        name = field if first == "schema" else f"{field}.{first}"
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{name}: {reason}", field=name,
                       errors=[{"field": name, "message": reason}])
    if not isinstance(schema, dict):  # true/false: no object to ask for
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{field}: must be an object (a JSON Schema)", field=field)
    return schema


class _Strict(Model):
    model_config = ConfigDict(extra="forbid")


class OpenAIContentPart(_Strict):
    type: Literal["text"]
    text: str


class OpenAIMessage(_Strict):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[OpenAIContentPart] | None = None


class StreamOptions(_Strict):
    include_usage: bool = False
    include_obfuscation: bool | None = None  # padding against length side channels: nothing to pad here


class JsonSchemaFormat(_Body):
    name: str | None = None
    description: str | None = None
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Body):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_with_its_type(self) -> "ResponseFormat":
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("type json_schema needs json_schema: {name, schema}")
        return self


class OpenAIChatBody(_Strict):
    model: str
    messages: list[OpenAIMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    response_format: ResponseFormat | None = None
    # Ranges checked as the contract's (shared/contract.py Sampling).
    top_p: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    top_k: int | None = None  # not OpenAI's: Workers AI's, as OpenAI-compatible servers take it
    repetition_penalty: float | None = None  # not OpenAI's: Workers AI's
    complexity: Complexity | None = None  # not OpenAI's: a hint for provider routing (shared/routing.py)
    retrieval: Retrieval | None = None  # not OpenAI's: ground the answer in the caller's documents

    @model_validator(mode="before")
    @classmethod
    def _carried_or_refused(cls, data: Any) -> Any:
        return openai_fields(data) if isinstance(data, dict) else data

    def sampling_fields(self) -> dict[str, tuple[str, Any]]:
        fields = {name: (name, getattr(self, name)) for name in
                  ("top_p", "seed", "frequency_penalty", "presence_penalty", "top_k", "repetition_penalty", "temperature")}
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        max_tokens = "max_completion_tokens" if self.max_completion_tokens is not None else "max_tokens"
        return fields | {"stop": ("stop", stop), max_tokens: ("max_tokens", self.max_completion_tokens or self.max_tokens)}


class EmbeddingsBody(_Body):
    model: str
    input: str | list[str]
    encoding_format: Literal["float", "base64"] = "float"


class OpenAICompletionBody(_Strict):
    """OpenAI's legacy completion request: one prompt, continued as the chat routes answer it."""

    model: str
    # One prompt: a string, or a list of one (OpenAI's list asks for a completion per prompt).
    prompt: str | list[str]
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    # Ranges checked as the contract's (shared/contract.py Sampling).
    top_p: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _carried_or_refused(cls, data: Any) -> Any:
        return openai_completion_fields(data) if isinstance(data, dict) else data

    @field_validator("prompt")
    @classmethod
    def _one_prompt(cls, prompt: str | list[str]) -> str:
        if isinstance(prompt, list):
            if len(prompt) != 1:
                raise ValueError(f"give one prompt (a string, or a list of one); this list has {len(prompt)}")
            prompt = prompt[0]
        if not prompt:
            raise ValueError("the prompt is empty")
        return prompt

    def sampling_fields(self) -> dict[str, tuple[str, Any]]:
        fields = {name: (name, getattr(self, name)) for name in
                  ("top_p", "seed", "frequency_penalty", "presence_penalty", "temperature", "max_tokens")}
        return fields | {"stop": ("stop", [self.stop] if isinstance(self.stop, str) else self.stop)}


def _too_large(size: str, max_bytes: int) -> ApiError:
    return ApiError(ErrorCode.PAYLOAD_TOO_LARGE, f"The body is {size} bytes; the limit is {max_bytes}",
                    field="body", limit=max_bytes)


async def _read_capped(request: Any, max_bytes: int) -> bytes:
    """The body, read chunk by chunk and given up on as soon as it passes `max_bytes` (a
    chunked body declares no length, and reading it whole first would hold all of it)."""
    if request.body is None:
        return b""
    reader = request.body.getReader()
    chunks, size = [], 0
    while not (result := await reader.read()).done:
        chunk = result.value.to_bytes()
        size += len(chunk)
        if size > max_bytes:
            await reader.cancel()
            raise _too_large(f"over {max_bytes}", max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_bytes(request: Any, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The request's body; a declared length over the cap is refused before reading. A body
    whose length is declared (and held to it by the runtime) is read in one call; a chunked one
    chunk by chunk, up to the cap."""
    declared = request.js_object.headers.get("content-length")  # JS null (falsy) when absent
    if declared and declared.isdigit():
        if int(declared) > max_bytes:
            raise _too_large(declared, max_bytes)
        return (await request.js_object.arrayBuffer()).to_bytes()
    return await _read_capped(request, max_bytes)


async def read_json(request: Any, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The request's JSON body, read as `read_bytes` does."""
    return json_reader.read_json(await read_bytes(request, max_bytes), max_bytes=max_bytes)


async def read_text(request: Any, max_bytes: int = MAX_BODY_BYTES) -> str:
    """The request's body as UTF-8 text, or a 400 naming the body."""
    try:
        return (await read_bytes(request, max_bytes)).decode()
    except UnicodeDecodeError as exc:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"body: not UTF-8 text ({exc.reason} at byte {exc.start})", field="body") from exc


Body = TypeVar("Body", bound=BaseModel)


async def read_body(request: Any, model: type[Body], max_bytes: int = MAX_BODY_BYTES) -> Body:
    """The request's JSON body as `model`, or the 4xx that says what is wrong with it."""
    return validated(model, await read_json(request, max_bytes))


def validated(model: type[Body], data: Any) -> Body:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in exc.errors()]
        first = errors[0]
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{first['field']}: {first['message']}",
                       field=first["field"], errors=errors) from exc


def _text_model(name: str | None, default: str) -> str:
    try:
        return resolve(name, TEXT_MODELS, default)
    except UnknownModel as exc:
        raise ApiError(ErrorCode.MODEL_NOT_FOUND, str(exc), field="model", valid=exc.valid) from exc


def _checked_for_model(model: str, messages: list[ChatMessage], given: dict[str, tuple[str, Any]]) -> Sampling:
    """The request's sampling options once the model is known to take each (`given`: the caller's
    name of each field, with its option's name and value) and its input to fit the model's window."""
    info = TEXT_MODELS[model]
    check_context(info, sum(m.prompt_chars() for m in messages), "messages")
    given = {field: option_value for field, option_value in given.items() if option_value[1] is not None}
    check_options(info, {option: field for field, (option, _) in given.items()})
    values = {option: value for option, value in given.values() if option in Sampling.model_fields}
    try:
        return Sampling.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        option = str(error["loc"][0])
        field = next(f for f, (o, _) in given.items() if o == option)
        where = ".".join([field, *(str(p) for p in error["loc"][1:])])
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{where}: {error['msg']}", field=where) from exc


def _generation(body: _Generation, messages: list[ChatMessage], **fields: Any) -> GenerationRequest:
    if body.system:
        messages = [ChatMessage(role="system", content=body.system), *messages]
    model = _text_model(body.model, fields.pop("default_model"))
    return GenerationRequest(
        messages=messages,
        model=model,
        sampling=_checked_for_model(model, messages, body.sampling_fields()),
        temperature=body.temperature,
        max_tokens=body.maxOutputTokens or DEFAULT_MAX_OUTPUT_TOKENS,
        complexity=body.complexity,
        retrieval=body.retrieval,
        **fields,
    )


def chat_request(body: ChatBody, *, caller: Caller, request_id: str, stream_id: str,
                 default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    messages = [
        ChatMessage(role=m.role, content="".join(p.text or "" for p in m.parts if p.type == "text"))
        for m in body.messages
    ]
    return _generation(body, messages, kind="chat", protocol="ui", caller=caller, request_id=request_id,
                       stream_id=stream_id, default_model=default_model)


def completion_request(body: CompletionBody, protocol: str, *, caller: Caller, request_id: str, stream_id: str,
                       default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    messages = [ChatMessage(role="user", content=body.prompt)]
    return _generation(body, messages, kind="completion", protocol=protocol, caller=caller,
                       request_id=request_id, stream_id=stream_id, default_model=default_model)


def object_request(body: ObjectBody, *, caller: Caller, request_id: str, stream_id: str,
                   default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    schema = _checked_schema(body.schema_, "schema") if body.schema_ is not None else NAMED_SCHEMAS[body.schemaName]
    messages = [ChatMessage(role="user", content=body.prompt)]
    return _generation(body, messages, kind="object", protocol="text", json_schema=schema, caller=caller,
                       request_id=request_id, stream_id=stream_id, default_model=default_model)


def _openai_content(message: OpenAIMessage) -> str:
    if isinstance(message.content, list):
        return "".join(part.text for part in message.content)
    return message.content or ""


def openai_chat_request(body: OpenAIChatBody, *, caller: Caller, request_id: str, stream_id: str,
                        default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    messages = [
        ChatMessage(role="system" if m.role == "developer" else m.role, content=_openai_content(m))
        for m in body.messages
    ]
    model = _text_model(body.model, default_model)
    sampling = _checked_for_model(model, messages, body.sampling_fields())
    schema = None
    if body.response_format and body.response_format.type == "json_schema":
        schema = _checked_schema(body.response_format.json_schema.schema_, "response_format.json_schema.schema")
    elif body.response_format and body.response_format.type == "json_object":
        schema = {"type": "object"}
    return GenerationRequest(
        request_id=request_id,
        caller=caller,
        kind="object" if schema is not None else "chat",
        model=model,
        messages=messages,
        sampling=sampling,
        temperature=body.temperature,
        max_tokens=body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_OUTPUT_TOKENS,
        json_schema=schema,
        complexity=body.complexity,
        retrieval=body.retrieval,
        protocol="openai" if body.stream else None,
        include_usage=bool(body.stream_options and body.stream_options.include_usage),
        stream_id=stream_id,
    )


def embedding_request(body: EmbeddingsBody, *, caller: Caller, request_id: str) -> EmbeddingRequest:
    try:
        model = resolve(body.model, EMBEDDING_MODELS, DEFAULT_EMBEDDING_MODEL)
    except UnknownModel as exc:
        raise ApiError(ErrorCode.MODEL_NOT_FOUND, str(exc), field="model", valid=exc.valid) from exc
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or len(texts) > MAX_EMBEDDING_INPUTS:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"input: give 1 to {MAX_EMBEDDING_INPUTS} texts", field="input")
    for index, text in enumerate(texts):
        if len(text) > MAX_EMBEDDING_INPUT_CHARS:
            raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE,
                           f"input.{index} holds {len(text)} characters; the limit is {MAX_EMBEDDING_INPUT_CHARS}",
                           field=f"input.{index}", limit=MAX_EMBEDDING_INPUT_CHARS)
    # Floats are written into the answer as the runtime wrote them; base64 needs the numbers.
    return EmbeddingRequest(request_id=request_id, caller=caller, model=model, texts=texts,
                            vectors_as_json=body.encoding_format == "float")


def openai_completion_request(body: OpenAICompletionBody, *, caller: Caller, request_id: str, stream_id: str,
                              default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    messages = [ChatMessage(role="user", content=body.prompt)]
    model = _text_model(body.model, default_model)
    return GenerationRequest(
        request_id=request_id,
        caller=caller,
        kind="completion",
        model=model,
        messages=messages,
        sampling=_checked_for_model(model, messages, body.sampling_fields()),
        temperature=body.temperature,
        max_tokens=body.max_tokens or DEFAULT_MAX_OUTPUT_TOKENS,
        protocol="openai-completion" if body.stream else None,
        include_usage=bool(body.stream_options and body.stream_options.include_usage),
        stream_id=stream_id,
    )
