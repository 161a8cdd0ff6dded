"""The external OpenAI-compatible provider (PROVIDER_URL, key in the PROVIDER_API_KEY secret),
over fetch: what ai_client.py calls for an attempt that routing (shared/routing.py) sends there.
A stream comes back as the runtime's ReadableStream of OpenAI's SSE chunks, which
shared/workers_ai.SSEDecoder reads like Workers AI's."""

import json
from typing import Any

from inference.log import trace
from shared.failures import Failure, provider_failure
from shared.json_reader import parse_internal
from shared.models import SAMPLING_OPTIONS
from shared.routing import ProviderModel

# The tools offered and the choice among them (planning.tool_inputs), in OpenAI's names as Workers AI's.
TOOL_INPUTS = ("tools", "tool_choice")


class ProviderError(Exception):
    """A provider's failure, classified (shared/failures.py)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class ExternalProvider:
    def __init__(self, name: str, base_url: str, api_key: str | None, models: dict[str, ProviderModel]) -> None:
        self.name = name
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = api_key
        self.models = models  # catalog id -> the provider's model

    def _body(self, model: str, inputs: dict[str, Any], stream: bool) -> str:
        # Structured output is held to its schema by the system instruction and checked after
        # (planning.object_errors): providers spell JSON modes differently.
        body: dict[str, Any] = {"model": self.models[model].model, "messages": inputs["messages"],
                                "max_tokens": inputs["max_tokens"], "stream": stream}
        body |= {option: inputs[option] for option in SAMPLING_OPTIONS if option in inputs and option != "max_tokens"}
        body |= {field: inputs[field] for field in TOOL_INPUTS if field in inputs}
        if stream:
            body["stream_options"] = {"include_usage": True}
        return json.dumps(body)

    async def _post(self, body: str) -> Any:
        from js import fetch  # the runtime's fetch: this module imports on CPython too

        from inference.store.runtime import cancelled_with_caller, with_signal

        headers = {"content-type": "application/json"}
        if (span := trace.get()) is not None:  # the provider's request is a child of this call's span
            headers["traceparent"] = span.traceparent
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        try:
            init = {"method": "POST", "headers": headers, "body": body}
            response = await cancelled_with_caller(lambda signal: fetch(self.url, with_signal(init, signal)))
        except Exception as exc:  # the provider could not be reached
            raise ProviderError(provider_failure(self.name, None, str(exc))) from None
        if not response.ok:
            detail = (await response.text())[:2000]
            raise ProviderError(provider_failure(self.name, response.status, detail, response.headers.get("retry-after")))
        return response

    async def stream(self, model: str, inputs: dict[str, Any]) -> Any:
        """The answer's ReadableStream (OpenAI chunks, usage last)."""
        return (await self._post(self._body(model, inputs, stream=True))).body

    async def run(self, model: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """The whole answer, shaped as Workers AI's: {"response", "tool_calls", "usage"}."""
        text = await (await self._post(self._body(model, inputs, stream=False))).text()
        answer = parse_internal(text, field=f"{self.name}'s answer")
        message = answer["choices"][0]["message"]
        return {"response": message.get("content") or "", "tool_calls": message.get("tool_calls"), "usage": answer.get("usage")}
