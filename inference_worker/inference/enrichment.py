"""Optional AI enrichment of events that carry free text (feedback, comments): a sentiment
label from Workers AI, stored with the event. Off unless EVENTS_ENRICHMENT is "true" (every
call is billed); at most EVENTS_ENRICHMENT_MAX_PER_BATCH events a batch; run after the batch
is stored and answered, so it never holds up the write path."""

import json
import time
from typing import Any

from inference import usage
from inference.models import RetryPolicy, run_once
from inference.settings import settings_of
from shared.contract import Caller
from shared.events import Event
from shared.json_schema import instruction, validate
from shared.schemas import NAMED_SCHEMAS
from shared.workers_ai import Usage

TEXT_PROPERTIES = ("text", "feedback", "comment", "message")
SAVE_ENRICHMENT_SQL = "UPDATE events SET enrichment_json = ?3 WHERE key_id = ?1 AND id = ?2"


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
        started = time.perf_counter()
        inputs = {
            "messages": [{"role": "system", "content": "Classify the sentiment of the user's text. " + instruction(schema)},
                         {"role": "user", "content": text}],
            "max_tokens": 64,
            "response_format": {"type": "json_schema", "json_schema": schema},
        }
        try:
            used_model, answer = await run_once(env, [model], inputs, RetryPolicy.of(settings_of(env)))
            label = answer["response"] if isinstance(answer["response"], dict) else json.loads(answer["response"])
            if validate(label, schema):
                continue
            await env.DB.prepare(SAVE_ENRICHMENT_SQL).bind(caller.key_id, event.id, json.dumps({"sentiment": label})).run()
            reported = answer.get("usage") or {}
            used = Usage(reported.get("prompt_tokens", 0), reported.get("completion_tokens", 0))
            latency = (time.perf_counter() - started) * 1000
            await usage.record_quietly(env, usage.CallRecord(caller, used_model, "enrichment", "ok", used, latency, latency), event.id)
        except Exception as exc:  # enrichment is best effort: the event itself is stored
            print(f"enrichment of event {event.id} failed: {exc}")
