"""Stop sequences, applied by the service: Workers AI's text models take none, so the answer is
cut before the first one as it arrives, holding back only text that may be the start of one."""


class StopCutter:
    def __init__(self, stops: list[str] | None) -> None:
        self.stops = stops or []
        # Every proper start of a stop sequence, longest first: what the end of a piece may hold back.
        self._starts = sorted({stop[:n] for stop in self.stops for n in range(1, len(stop))}, key=len, reverse=True)
        self.held = ""
        self.stopped = False  # a stop sequence came: the rest of the answer is dropped

    def feed(self, text: str) -> str:
        """The part of `text` (after what was held back) that is surely answer."""
        if self.stopped:
            return ""
        if not self.stops:
            return text
        buffer = self.held + text
        found = [at for stop in self.stops if (at := buffer.find(stop)) >= 0]
        if found:
            self.stopped, self.held = True, ""
            return buffer[:min(found)]
        keep = next((len(start) for start in self._starts if buffer.endswith(start)), 0)
        self.held = buffer[len(buffer) - keep:] if keep else ""
        return buffer[:len(buffer) - keep]

    def close(self) -> str:
        """What was held back, at the end of the answer (it started no stop sequence after all)."""
        held, self.held = self.held, ""
        return "" if self.stopped else held


def cut_at_stop(text: str, stops: list[str] | None) -> tuple[str, bool]:
    """A whole answer cut before its first stop sequence, and whether one was found."""
    cutter = StopCutter(stops)
    cut = cutter.feed(text) + cutter.close()
    return cut, cutter.stopped
