"""The public request bodies, validated, and turned into the inference service's contract.

Bodies are what the clients send: `useChat` (AI SDK v5+ UI messages: api/ui_messages.py), `useCompletion`,
`useObject`, and OpenAI's chat completions and embeddings. A field asking for what the chosen
model or this deployment cannot do (tools, images, a sampling option) is refused naming it, never
dropped (shared/capabilities.py). Otherwise the AI SDK bodies ignore fields they do not know (an
app adds its own through `body`); OpenAI's chat body refuses them, since every field of OpenAI's
request is either honoured or refused. Limits are checked here, before any RPC or model call.
"""

from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from api.images import ImageReader
from api.refusals import openai_completion_fields, openai_fields, openai_response_fields, refuse_parts
from api.ui_messages import UIMessage, chat_messages
from shared import json_reader
from shared.base import Model
from shared.capabilities import check_context, check_options
from shared.contract import (
    TOOL_NAME_PATTERN,
    Caller,
    ChatMessage,
    EmbeddingRequest,
    FunctionTool,
    GenerationRequest,
    ImageInput,
    Retrieval,
    Sampling,
    ToolCall,
    ToolChoice,
)
from shared.errors import ApiError, ErrorCode
from shared.json_schema import schema_problems
from shared.limits import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    MAX_BODY_BYTES,
    MAX_EMBEDDING_INPUT_CHARS,
    MAX_EMBEDDING_INPUTS,
    MAX_MESSAGES,
    MAX_OUTPUT_TOKENS,
    MAX_TOOLS,
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
    # False: a stream whose model breaks after sending text ends with an error part, not taken up by the next model.
    continuation: bool = True
    # The AI SDK's call settings (ranges checked as the contract's: shared/contract.py Sampling).
    topP: float | None = None
    topK: int | None = None
    seed: int | None = None
    stopSequences: list[str] | None = None
    frequencyPenalty: float | None = None
    presencePenalty: float | None = None

    def sampling_fields(self) -> dict[str, tuple[str, Any]]:
        return {"topP": ("top_p", self.topP), "topK": ("top_k", self.topK), "seed": ("seed", self.seed),
                "stopSequences": ("stop", self.stopSequences), "frequencyPenalty": ("frequency_penalty", self.frequencyPenalty),
                "presencePenalty": ("presence_penalty", self.presencePenalty), "temperature": ("temperature", self.temperature),
                "maxOutputTokens": ("max_tokens", self.maxOutputTokens)}


def _ui_message(message: Any, index: int) -> Any:
    """A message as `useChat` sends it: `{id, role, parts}`, or `{role, content}` as older
    clients do (content a string or a list of parts); refused if it carries what cannot be sent on."""
    if not isinstance(message, dict):
        return message
    field = f"messages.{index}"
    if message.get("role") == "tool":
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{field}.role: a tool's result goes in the assistant message's "
                       "tool part that called it (state output-available, output)", field=f"{field}.role")
    if "parts" not in message and "content" in message:
        content = message["content"]
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        message = {**{k: v for k, v in message.items() if k != "content"}, "parts": parts}
        field_of_parts = f"{field}.content"
    else:
        field_of_parts = f"{field}.parts"
    refuse_parts(message.get("parts"), field_of_parts)
    return {**message, "parts_field": field_of_parts}


class ChatBody(_Generation):
    id: str | None = None
    messages: list[UIMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    trigger: str | None = None
    messageId: str | None = None
    tools: list[FunctionTool] = []
    toolChoice: ToolChoice = ToolChoice()

    @model_validator(mode="before")
    @classmethod
    def _readable_messages(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("messages"), list):
            data = {**data, "messages": [_ui_message(m, i) for i, m in enumerate(data["messages"])]}
        return data

    @model_validator(mode="before")
    @classmethod
    def _readable_tools(cls, data: Any) -> Any:
        if isinstance(data, dict):
            tools = sdk_tools(data.get("tools"))
            data = {**data, "tools": tools, "toolChoice": tool_choice(data.get("toolChoice"), "toolChoice", tools)}
        return data


class _PromptGeneration(_Generation):
    """A generation from one prompt, streamed as text: the model is given no tools."""

    @model_validator(mode="before")
    @classmethod
    def _no_tools(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for field in ("tools", "toolChoice"):
                if data.get(field) not in (None, [], {}):
                    raise ApiError(ErrorCode.UNSUPPORTED, f"{field}: this route gives the model no tools "
                                   "(/stream/chat and /v1/chat/completions do)", field=field)
        return data


class CompletionBody(_PromptGeneration):
    prompt: str = Field(min_length=1)


class ObjectBody(_PromptGeneration):
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


class OpenAIFunctionCall(_Strict):
    name: str = Field(pattern=TOOL_NAME_PATTERN)
    arguments: str = "{}"  # JSON text


class OpenAIToolCall(_Strict):
    id: str = Field(min_length=1, max_length=128)
    type: Literal["function"] = "function"
    function: OpenAIFunctionCall


class OpenAIImageURL(_Strict):
    url: str
    # "low" and "high" are refused (api/refusals.py): the models here read an image at their own resolution.
    detail: Literal["auto", "low", "high"] = "auto"


class OpenAIImagePart(_Strict):
    type: Literal["image_url"]
    image_url: OpenAIImageURL


class OpenAIMessage(_Strict):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[Annotated[OpenAIContentPart | OpenAIImagePart, Field(discriminator="type")]] | None = None
    tool_calls: list[OpenAIToolCall] | None = None  # an assistant's
    tool_call_id: str | None = None  # a tool result's: the call it answers

    @model_validator(mode="after")
    def _tool_fields_in_their_roles(self) -> "OpenAIMessage":
        if self.tool_calls and self.role != "assistant":
            raise ValueError("tool_calls: only an assistant message makes tool calls")
        if (self.role == "tool") != (self.tool_call_id is not None):
            raise ValueError("tool_call_id: a tool message (and only one) names the call it answers")
        return self

    def images(self, index: int, reader: ImageReader) -> list[ImageInput]:
        parts = self.content if isinstance(self.content, list) else []
        return [reader.read(p.image_url.url, f"messages.{index}.content.{i}", self.role)
                for i, p in enumerate(parts) if isinstance(p, OpenAIImagePart)]


class OpenAIFunction(_Strict):
    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str | None = Field(default=None, max_length=4096)
    parameters: dict[str, Any] | None = None  # a JSON Schema; none: the function takes no arguments
    # Arguments held to the schema exactly: what no model here guarantees, so only false is taken.
    strict: Literal[False] | None = None


class OpenAITool(_Strict):
    type: Literal["function"]
    function: OpenAIFunction


class OpenAINamedFunction(_Strict):
    name: str


class OpenAINamedToolChoice(_Strict):
    type: Literal["function"]
    function: OpenAINamedFunction


class OpenAITools(_Strict):
    tools: list[OpenAITool] = Field(max_length=MAX_TOOLS)


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_REQUEST, f"{field}: {message}", field=field)


def _function_tool(function: OpenAIFunction, field: str, schema_field: str | None = None) -> FunctionTool:
    parameters = function.parameters
    if parameters is not None:
        parameters = _checked_schema(parameters, schema_field or f"{field}.parameters")
    return FunctionTool(name=function.name, description=function.description,
                        **({"parameters": parameters} if parameters is not None else {}))


def function_tools(tools: list[OpenAITool], field: str = "tools") -> list[FunctionTool]:
    """OpenAI's function tools as the contract's, each parameters schema checked as a JSON Schema."""
    return [_function_tool(tool.function, f"{field}.{index}.function") for index, tool in enumerate(tools)]


def sdk_tools(value: Any) -> list[FunctionTool]:
    """The AI SDK's `tools`: `{name: {description, inputSchema}}` (`parameters`, its name before
    v5, too), or OpenAI's list of function tools."""
    if value is None:
        return []
    if not isinstance(value, dict):
        tools = function_tools(validated(OpenAITools, {"tools": value}).tools)
    else:
        tools = []
        for name, tool in value.items():
            at = f"tools.{name}"
            if not isinstance(tool, dict):
                raise _invalid(at, "an object: {description, inputSchema}")
            key = "inputSchema" if "inputSchema" in tool else "parameters"
            function = validated(OpenAIFunction, {"name": name, "description": tool.get("description"),
                                                  "parameters": tool.get(key)}, at=at)
            tools.append(_function_tool(function, at, f"{at}.{key}"))
    names = [tool.name for tool in tools]
    if twice := next((name for name in names if names.count(name) > 1), None):
        raise _invalid("tools", f"two tools are named {twice!r}")
    return tools


def tool_choice(value: Any, field: str, tools: list[FunctionTool]) -> ToolChoice:
    """Whether and which tool the model must call: "auto", "none", "required", or one tool, as the
    AI SDK names it (`{type: "tool", toolName}`) or OpenAI does (`{type: "function", function: {name}}`)."""
    if value is None:
        return ToolChoice()
    if value in ("auto", "none", "required"):
        choice = ToolChoice(mode=value)
    elif isinstance(value, dict) and value.get("type") == "tool" and isinstance(value.get("toolName"), str):
        choice = ToolChoice(mode="function", name=value["toolName"])
    elif (isinstance(value, dict) and value.get("type") == "function" and isinstance(value.get("function"), dict)
          and isinstance(value["function"].get("name"), str)):
        choice = ToolChoice(mode="function", name=value["function"]["name"])
    else:
        raise _invalid(field, "'auto', 'none', 'required', or one tool: {\"type\": \"tool\", \"toolName\"} "
                       "(or {\"type\": \"function\", \"function\": {\"name\"}})")
    if problem := choice.problem_with(tools):
        raise _invalid(field, problem)
    return choice


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
    tools: list[OpenAITool] | None = Field(default=None, max_length=MAX_TOOLS)
    tool_choice: Literal["auto", "none", "required"] | OpenAINamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
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
    continuation: bool = True  # not OpenAI's: False ends a stream whose model broke with an error (inference/continuation.py)

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
    continuation: bool = True  # not OpenAI's: False ends a stream whose model broke with an error (inference/continuation.py)

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


class ResponseInputText(_Strict):
    type: Literal["input_text"]
    text: str


class ResponseOutputText(_Strict):
    """An earlier answer's text, sent back as the conversation so far."""

    type: Literal["output_text"]
    text: str
    annotations: list[Any] = []
    logprobs: list[Any] | None = None


class ResponseInputImage(_Strict):
    type: Literal["input_image"]
    image_url: str  # a data: URL or an http(s) URL (api/images.py); OpenAI's file_id is refused as unknown
    # The models here read an image at their own resolution: only "auto" is taken.
    detail: Literal["auto"] = "auto"


class ResponseMessageItem(_Strict):
    type: Literal["message"]
    role: Literal["system", "developer", "user", "assistant"]
    content: list[Annotated[ResponseInputText | ResponseOutputText | ResponseInputImage, Field(discriminator="type")]]
    id: str | None = None  # an earlier output item's, sent back: nothing is looked up by it
    status: str | None = None

    def message(self, index: int, reader: ImageReader) -> ChatMessage:
        images = [reader.read(p.image_url, f"input.{index}.content.{i}", self.role)
                  for i, p in enumerate(self.content) if isinstance(p, ResponseInputImage)]
        text = "".join(p.text for p in self.content if not isinstance(p, ResponseInputImage))
        return ChatMessage(role="system" if self.role == "developer" else self.role, content=text, images=images)


class ResponseFunctionCallItem(_Strict):
    """A call an earlier answer made, sent back before its output."""

    type: Literal["function_call"]
    call_id: str = Field(min_length=1, max_length=128)
    name: str = Field(pattern=TOOL_NAME_PATTERN)
    arguments: str
    id: str | None = None
    status: str | None = None


class ResponseFunctionCallOutputItem(_Strict):
    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1, max_length=128)
    output: str
    id: str | None = None
    status: str | None = None


ResponseInputItem = Annotated[ResponseMessageItem | ResponseFunctionCallItem | ResponseFunctionCallOutputItem,
                              Field(discriminator="type")]


class ResponseTextFormat(_Strict):
    type: Literal["text", "json_schema", "json_object"]
    name: str | None = None
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema_with_its_type(self) -> "ResponseTextFormat":
        if self.type == "json_schema" and self.schema_ is None:
            raise ValueError("type json_schema needs a schema")
        return self


class ResponseText(_Strict):
    format: ResponseTextFormat = ResponseTextFormat(type="text")


class ResponseFunctionTool(OpenAIFunction):
    """Responses' function tool: OpenAI's function, flat (no `function` wrapper)."""

    type: Literal["function"]


class ResponseNamedToolChoice(_Strict):
    type: Literal["function"]
    name: str


def _response_item(item: Any) -> Any:
    """A message item as its model reads it: its type, which it may leave out, and its content as
    parts (a string is one text part), so that an error names the part that is wrong."""
    if not isinstance(item, dict) or item.get("type", "message") != "message" or "role" not in item:
        return item
    content = item.get("content")
    return {**item, "type": "message",
            "content": [{"type": "input_text", "text": content}] if isinstance(content, str) else content}


class OpenAIResponsesBody(_Strict):
    """OpenAI's Responses request, stateless: the whole conversation comes in `input`."""

    model: str
    input: list[ResponseInputItem] = Field(min_length=1, max_length=MAX_MESSAGES)  # a string: one user message
    instructions: str | None = None  # a system message before the input
    stream: bool = False
    max_output_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = None  # range checked as the contract's (shared/contract.py Sampling)
    text: ResponseText | None = None
    tools: list[ResponseFunctionTool] | None = Field(default=None, max_length=MAX_TOOLS)
    tool_choice: Literal["auto", "none", "required"] | ResponseNamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    continuation: bool = True  # not OpenAI's: False ends a stream whose model broke with an error (inference/continuation.py)

    @model_validator(mode="before")
    @classmethod
    def _carried_or_refused(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = openai_response_fields(data)
        if isinstance(data.get("input"), str):
            data["input"] = [{"type": "message", "role": "user", "content": data["input"]}]
        if isinstance(data.get("input"), list):
            data["input"] = [_response_item(item) for item in data["input"]]
        return data

    def sampling_fields(self) -> dict[str, tuple[str, Any]]:
        return {"top_p": ("top_p", self.top_p), "temperature": ("temperature", self.temperature),
                "max_output_tokens": ("max_tokens", self.max_output_tokens)}


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


def validated(model: type[Body], data: Any, at: str | None = None) -> Body:
    """`data` as `model`, or a 400 naming each field wrong (under `at`, for a part of a body)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in [*([at] if at else []), *e["loc"]]) or "body", "message": e["msg"]}
                  for e in exc.errors()]
        first = errors[0]
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{first['field']}: {first['message']}",
                       field=first["field"], errors=errors) from exc


def _text_model(name: str | None, default: str) -> str:
    try:
        return resolve(name, TEXT_MODELS, default)
    except UnknownModel as exc:
        raise ApiError(ErrorCode.MODEL_NOT_FOUND, str(exc), field="model", valid=exc.valid) from exc


def _checked_for_model(model: str, messages: list[ChatMessage], given: dict[str, tuple[str, Any]],
                       tools: Sequence[FunctionTool] = ()) -> Sampling:
    """The request's sampling options once the model is known to take each (`given`: the caller's
    name of each field, with its option's name and value) and its input to fit the model's window
    (the tools' definitions are prompt too)."""
    info = TEXT_MODELS[model]
    check_context(info, sum(m.prompt_chars() for m in messages) + sum(t.prompt_chars() for t in tools),
                  "tools" if tools else "messages")
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
    if len(messages) > MAX_MESSAGES:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"messages: the model would read {len(messages)} messages (the system "
                       f"prompt and each tool result are one); the limit is {MAX_MESSAGES}", field="messages", limit=MAX_MESSAGES)
    model = _text_model(body.model, fields.pop("default_model"))
    return GenerationRequest(
        messages=messages,
        model=model,
        sampling=_checked_for_model(model, messages, body.sampling_fields(), fields.get("tools", [])),
        temperature=body.temperature,
        max_tokens=body.maxOutputTokens or DEFAULT_MAX_OUTPUT_TOKENS,
        complexity=body.complexity,
        retrieval=body.retrieval,
        continuation=body.continuation,
        **fields,
    )


def chat_request(body: ChatBody, *, caller: Caller, request_id: str, stream_id: str,
                 default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    return _generation(body, chat_messages(body.messages, ImageReader()), tools=body.tools, tool_choice=body.toolChoice,
                       kind="chat", protocol="ui", caller=caller, request_id=request_id, stream_id=stream_id,
                       default_model=default_model)


def completion_request(body: CompletionBody, protocol: str, *, caller: Caller, request_id: str, stream_id: str,
                       default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    messages = [ChatMessage(role="user", content=body.prompt)]
    return _generation(body, messages, kind="completion", protocol=protocol, caller=caller,
                       request_id=request_id, stream_id=stream_id, default_model=default_model)


def object_request(body: ObjectBody, *, caller: Caller, request_id: str, stream_id: str,
                   default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    schema = NAMED_SCHEMAS[body.schemaName] if body.schemaName is not None else _checked_schema(body.schema_, "schema")
    messages = [ChatMessage(role="user", content=body.prompt)]
    return _generation(body, messages, kind="object", protocol="text", json_schema=schema, caller=caller,
                       request_id=request_id, stream_id=stream_id, default_model=default_model)


def _openai_content(message: OpenAIMessage) -> str:
    if isinstance(message.content, list):
        return "".join(part.text for part in message.content if isinstance(part, OpenAIContentPart))
    return message.content or ""


def _openai_messages(body: OpenAIChatBody) -> list[ChatMessage]:
    """The messages, each tool result answering a call an earlier assistant message made."""
    messages, called, images = [], set(), ImageReader()
    for index, m in enumerate(body.messages):
        calls = [ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments) for c in m.tool_calls or []]
        called |= {call.id for call in calls}
        if m.role == "tool" and m.tool_call_id not in called:
            field = f"messages.{index}.tool_call_id"
            raise ApiError(ErrorCode.INVALID_REQUEST, f"{field}: {m.tool_call_id!r} answers no tool call of an earlier "
                           "assistant message", field=field)
        messages.append(ChatMessage(role="system" if m.role == "developer" else m.role, content=_openai_content(m),
                                    tool_calls=calls, tool_call_id=m.tool_call_id, images=m.images(index, images)))
    return messages


def _openai_tools(body: OpenAIChatBody) -> tuple[list[FunctionTool], ToolChoice]:
    """The functions offered (their parameters checked as JSON Schemas) and the choice among them."""
    tools = function_tools(body.tools or [])
    choice = body.tool_choice
    if isinstance(choice, OpenAINamedToolChoice):
        if choice.function.name not in {t.name for t in tools}:
            raise ApiError(ErrorCode.INVALID_REQUEST, f"tool_choice.function.name: {choice.function.name!r} is not one of "
                           "the tools", field="tool_choice.function.name")
        return tools, ToolChoice(mode="function", name=choice.function.name)
    if choice == "required" and not tools:
        raise ApiError(ErrorCode.INVALID_REQUEST, "tool_choice: required asks for a tool call, but no tools are given",
                       field="tool_choice")
    return tools, ToolChoice(mode=choice or "auto")


def openai_chat_request(body: OpenAIChatBody, *, caller: Caller, request_id: str, stream_id: str,
                        default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    messages = _openai_messages(body)
    tools, tool_choice = _openai_tools(body)
    model = _text_model(body.model, default_model)
    sampling = _checked_for_model(model, messages, body.sampling_fields(), tools)
    schema = None
    if body.response_format and body.response_format.type == "json_schema" and body.response_format.json_schema is not None:
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
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=body.parallel_tool_calls is not False,
        continuation=body.continuation,
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
        continuation=body.continuation,
    )


def _response_messages(body: OpenAIResponsesBody) -> list[ChatMessage]:
    """The input as messages: the calls an earlier answer made joined to what it said, each
    output answering a call made before it."""
    messages = [ChatMessage(role="system", content=body.instructions)] if body.instructions else []
    called, images = set(), ImageReader()
    for index, item in enumerate(body.input):
        if isinstance(item, ResponseFunctionCallItem):
            call = ToolCall(id=item.call_id, name=item.name, arguments=item.arguments)
            called.add(call.id)
            if messages and messages[-1].role == "assistant":
                messages[-1] = messages[-1].model_copy(update={"tool_calls": [*messages[-1].tool_calls, call]})
            else:
                messages.append(ChatMessage(role="assistant", tool_calls=[call]))
        elif isinstance(item, ResponseFunctionCallOutputItem):
            if item.call_id not in called:
                raise _invalid(f"input.{index}.call_id", f"{item.call_id!r} answers no function_call item before it")
            messages.append(ChatMessage(role="tool", content=item.output, tool_call_id=item.call_id))
        else:
            messages.append(item.message(index, images))
    return messages


def _response_tools(body: OpenAIResponsesBody) -> tuple[list[FunctionTool], ToolChoice]:
    tools = [_function_tool(tool, f"tools.{index}") for index, tool in enumerate(body.tools or [])]
    choice = body.tool_choice
    if isinstance(choice, ResponseNamedToolChoice):
        if choice.name not in {t.name for t in tools}:
            raise _invalid("tool_choice.name", f"{choice.name!r} is not one of the tools")
        return tools, ToolChoice(mode="function", name=choice.name)
    if choice == "required" and not tools:
        raise _invalid("tool_choice", "required asks for a tool call, but no tools are given")
    return tools, ToolChoice(mode=choice or "auto")


def openai_responses_request(body: OpenAIResponsesBody, *, caller: Caller, request_id: str, stream_id: str,
                             default_model: str = DEFAULT_TEXT_MODEL) -> GenerationRequest:
    messages = _response_messages(body)
    tools, choice = _response_tools(body)
    model = _text_model(body.model, default_model)
    schema = None
    text_format = body.text.format if body.text else None
    if text_format and text_format.type == "json_schema":
        schema = _checked_schema(text_format.schema_, "text.format.schema")
    elif text_format and text_format.type == "json_object":
        schema = {"type": "object"}
    return GenerationRequest(
        request_id=request_id,
        caller=caller,
        kind="object" if schema is not None else "chat",
        model=model,
        messages=messages,
        sampling=_checked_for_model(model, messages, body.sampling_fields(), tools),
        temperature=body.temperature,
        max_tokens=body.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS,
        json_schema=schema,
        protocol="openai-responses" if body.stream else None,
        stream_id=stream_id,
        tools=tools,
        tool_choice=choice,
        parallel_tool_calls=body.parallel_tool_calls is not False,
        continuation=body.continuation,
    )
