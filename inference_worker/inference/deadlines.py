"""A streamed answer's two deadlines, as the relay's one timer sees them: the model's silence
since its last chunk (MODEL_IDLE_TIMEOUT_MS) and the whole answer's time (STREAM_TIMEOUT_MS).
The relay (inference/streaming.py) sleeps until `next_check` and asks `passed`; times are
`time.monotonic()` seconds."""

import math
from dataclasses import dataclass

from inference.ai_client import ModelStalled, ModelStreamBroken, ModelTimedOut


@dataclass(frozen=True)
class StreamDeadlines:
    idle_timeout_s: float  # 0 or less: the model may be silent for any time
    total_timeout_s: float  # 0 or less: the answer may take any time
    ends_at: float  # when the whole answer's time is up (math.inf: never)

    @classmethod
    def starting(cls, now: float, idle_timeout_s: float, total_timeout_s: float) -> "StreamDeadlines":
        return cls(idle_timeout_s, total_timeout_s, now + total_timeout_s if total_timeout_s > 0 else math.inf)

    def next_check(self, last_chunk_at: float) -> float:
        """When the first deadline passes if no chunk comes meanwhile (math.inf: none will)."""
        stalls_at = last_chunk_at + self.idle_timeout_s if self.idle_timeout_s > 0 else math.inf
        return min(stalls_at, self.ends_at)

    def passed(self, last_chunk_at: float, now: float) -> ModelStreamBroken | None:
        """The deadline that has passed at `now` (the whole answer's first), or None."""
        if now >= self.ends_at:
            return ModelTimedOut(f"the model did not finish within {self.total_timeout_s:g} s")
        if self.idle_timeout_s > 0 and now - last_chunk_at >= self.idle_timeout_s:
            return ModelStalled(f"the model sent nothing for {self.idle_timeout_s:g} s")
        return None
