"""Content negotiation: which of the media types a route offers the client's Accept header
prefers (RFC 9110, section 12.5.1)."""

from collections.abc import Sequence


def _ranges(accept: str) -> list[tuple[str, float]]:
    """The Accept header's media ranges, lowercased, each with its weight (q, 1 when not given)."""
    ranges = []
    for item in accept.split(","):
        media_range, *parameters = (part.strip() for part in item.split(";"))
        if "/" not in media_range:
            continue
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    weight = 0.0
        ranges.append((media_range.lower(), weight))
    return ranges


def preferred_type(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered type the client prefers: the highest weight, then the range that names it most
    exactly (`*/*` least), then the one it lists first, then the order of `offered`. Without an
    Accept header, the first offered; None when the client accepts none of them."""
    if not accept or not accept.strip():
        return offered[0] if offered else None
    ranges = _ranges(accept)
    best: tuple[float, int, int, int] | None = None
    chosen = None
    for order, media_type in enumerate(offered):
        kind = media_type.split("/")[0]
        matches = [(exactness, weight, -position) for position, (media_range, weight) in enumerate(ranges)
                   for exactness, pattern in ((2, media_type), (1, f"{kind}/*"), (0, "*/*")) if media_range == pattern]
        if not matches:
            continue
        exactness, weight, position = max(matches)  # the most exact range decides the weight
        rank = (weight, exactness, position, -order)
        if weight > 0 and (best is None or rank > best):
            best, chosen = rank, media_type
    return chosen
