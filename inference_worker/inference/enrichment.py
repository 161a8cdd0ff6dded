"""Optional AI enrichment of events that carry free text (feedback, comments): a sentiment
label from Workers AI, stored with the event. Off unless EVENTS_ENRICHMENT is "true" (every
call is billed); at most EVENTS_ENRICHMENT_MAX_PER_BATCH events a batch; run after the batch
is stored and answered, so it never holds up the write path."""

from typing import Any

from inference.ai_client import RetryPolicy, run_once
from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from inference.usage import Meter
from shared.contract import Caller
from shared.events import Event
from shared.json_schema import instruction, parse_model_json, validate
from shared.routing import WORKERS_AI
from shared.schemas import NAMED_SCHEMAS
from shared.workers_ai import Usage

TEXT_PROPERTIES = ("text", "feedback", "comment", "message")


def enabled(env: Any) -> bool:
    return settings_of(env).events_enrichment


def free_text(event: Event) -> str | None:
    for name in TEXT_PROPERTIES:
        value = (event.properties or {}).get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:2_000]
    return None


def candidates(env: Any, events: list[Event]) -> list[tuple[Event, str]]:
    limit = settings_of(env).events_enrichment_max_per_batch
    found = [(event, text) for event in events if (text := free_text(event))]
    return found[:limit]


async def enrich(env: Any, caller: Caller, events: list[Event]) -> None:
    schema = NAMED_SCHEMAS["sentiment"]
    model = settings_of(env).default_model
    for event, text in candidates(env, events):
        meter = Meter(env, caller, "enrichment", event.id)
        inputs = {
            "messages": [{"role": "system", "content": "Classify the sentiment of the user's text. " + instruction(schema)},
                         {"role": "user", "content": text}],
            "max_tokens": 64,
            "response_format": {"type": "json_schema", "json_schema": schema},
        }
        try:
            _, used_model, answer = await run_once(env, [(WORKERS_AI, model)], inputs, RetryPolicy.of(settings_of(env)), recorder=meter)
            label = answer["response"] if isinstance(answer["response"], dict) else parse_model_json(answer["response"])
            if validate(label, schema):
                continue
            await stores_of(env).db.save_enrichment(caller.key_id, event.id, {"sentiment": label})
            reported = answer.get("usage") or {}
            await meter.done(used_model, "ok", Usage(reported.get("prompt_tokens", 0), reported.get("completion_tokens", 0)))
        except Exception as exc:  # enrichment is best effort: the event itself is stored
            log(f"enrichment of event {event.id} failed: {exc}")
