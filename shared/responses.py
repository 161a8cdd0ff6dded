"""OpenAI's Responses API shapes (`POST /v1/responses`): the response object and its output
items, as an answer given whole (api/openai.py) and as a stream's events carry them
(shared/streams.py OpenAIResponseEvents). Responses are not stored: each says `store: false`."""

from typing import Any

from shared.contract import ToolCall


def message_item_id(response_id: str) -> str:
    """The id of the answer's text item: one per response, derived from the response's own id."""
    return f"msg_{response_id.removeprefix('resp_')}"


def function_call_item_id(call_id: str) -> str:
    return f"fc_{call_id}"


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str | None, status: str = "completed") -> dict[str, Any]:
    """The assistant's text; `text` None: an item just opened, whose content is still to come."""
    return {"type": "message", "id": item_id, "role": "assistant", "status": status,
            "content": [] if text is None else [output_text(text)]}


def function_call_item(call: ToolCall, status: str = "completed") -> dict[str, Any]:
    return {"type": "function_call", "id": function_call_item_id(call.id), "call_id": call.id, "name": call.name,
            "arguments": call.arguments, "status": status}


def response_usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {"input_tokens": prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt_tokens + completion_tokens}


def response_object(response_id: str, model: str, created_at: int, output: list[dict[str, Any]],
                    *, status: str, usage: dict[str, Any] | None = None, finish_reason: str | None = None,
                    error: dict[str, Any] | None = None) -> dict[str, Any]:
    """The response, whole. An answer cut at its token limit is "incomplete", as OpenAI says it."""
    if finish_reason == "length":
        status = "incomplete"
    return {
        "id": response_id, "object": "response", "created_at": created_at, "status": status,
        "error": error,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "model": model, "output": output, "usage": usage,
        "store": False,
    }


def whole_output(response_id: str, text: str, calls: list[ToolCall]) -> list[dict[str, Any]]:
    """A whole answer's output items: its text (if it said anything, or made no call), then its calls."""
    items = [message_item(message_item_id(response_id), text)] if text or not calls else []
    return items + [function_call_item(call) for call in calls]
