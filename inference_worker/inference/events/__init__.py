"""Event batches on the inference service: nothing accepted is lost. A batch is durable before
the client is told it was received (in a queue message, or in R2), then archived in R2 and
indexed into D1, off the request's path where a queue is bound.

One module a job:
- ingest.py: a batch the api hands over (`process_events`): sent to the event queue where one is
  bound (shared/batches.py), else stored and indexed in the request;
- consumer.py: the event queue's consumer, archiving and indexing batches several at a time,
  retrying a failure with backoff;
- dead_letters.py: the dead-letter queue's consumer, leaving a batch the queue gave up on to the replay;
- replay.py: the scheduled replay of batches whose marker is in R2 (`unindexed/<batch id>`);
- retention.py: the purge of raw events past the retention window;
- indexing.py: what all of them share: indexing a batch into D1 (idempotent: events are unique
  per key and id, a batch's usage counted once), the counters and Analytics Engine points it
  yields, and a batch's status.

The service's RPC methods (inference_worker/entry.py) reach them through the names below."""

from inference.events.indexing import batch_status
from inference.events.ingest import process_events
from inference.events.replay import replay_unindexed, unindexed_batches

__all__ = ["batch_status", "process_events", "replay_unindexed", "unindexed_batches"]
