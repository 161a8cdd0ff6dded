"""The caller's say over the generation cache, in request headers named as AI Gateway's are
(cf-aig-skip-cache, cf-aig-cache-ttl): `x-cache-skip: true` neither serves the answer from the
cache nor keeps it there; `x-cache-ttl: <seconds>` keeps it that long (60 s to 30 days)."""

from collections.abc import Callable

from shared.contract import MAX_CACHE_TTL_SECONDS, MIN_CACHE_TTL_SECONDS, CacheControl
from shared.errors import ApiError, ErrorCode

SKIP_HEADER = "x-cache-skip"
TTL_HEADER = "x-cache-ttl"
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def cache_control(header: Callable[[str], str | None]) -> CacheControl:
    """The CacheControl the request's headers ask for (`header(name)`: its value or None); a 400
    naming the header for a value it cannot be."""
    skip = header(SKIP_HEADER)
    ttl = header(TTL_HEADER)
    if skip is not None and skip.strip().lower() not in _BOOLEANS:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{SKIP_HEADER}: give true or false, not {skip[:40]!r}", field=SKIP_HEADER)
    seconds = None
    if ttl is not None:
        if not ttl.strip().isdigit() or not MIN_CACHE_TTL_SECONDS <= int(ttl) <= MAX_CACHE_TTL_SECONDS:
            raise ApiError(ErrorCode.INVALID_REQUEST, f"{TTL_HEADER}: give whole seconds from {MIN_CACHE_TTL_SECONDS} to "
                           f"{MAX_CACHE_TTL_SECONDS}, not {ttl[:40]!r}", field=TTL_HEADER,
                           limit=MAX_CACHE_TTL_SECONDS)
        seconds = int(ttl)
    return CacheControl(skip=skip is not None and _BOOLEANS[skip.strip().lower()], ttl_seconds=seconds)
