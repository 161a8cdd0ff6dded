"""The dead-letter queue's consumer (this worker's queue handler, for EVENT_DEAD_LETTER_QUEUE): a
batch the event queue gave up on gets its events (if they came in the message) and its marker in
R2, where the admin sees it (GraphQL `unindexedBatches`) and the scheduled replay keeps trying
it (replay.py). If R2 fails too, the message is retried."""

from typing import Any

from inference.log import log
from inference.store import stores_of
from shared.batches import batch_of

GAVE_UP = "the event queue gave up on it after its retries (max_retries)"


async def dead_letter(env: Any, messages: list[Any]) -> None:
    archive = stores_of(env).archive
    for message in messages:
        marker, ndjson, _ = batch_of(message.body)
        if ndjson is not None:
            await archive.store_events(marker, ndjson)
        await archive.mark_unindexed(marker, GAVE_UP)
        log(f"queue: batch {marker.batch_id} dead-lettered, left to the replay")
        message.ack()
