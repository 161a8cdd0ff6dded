"""AI Gateway (developers.cloudflare.com/ai-gateway/providers/workersai/#worker): with
AI_GATEWAY_ID set, every Workers AI call goes through that gateway, given as the binding's option
`env.AI.run(model, inputs, {gateway: {id, skipCache, cacheTtl, metadata}})`; its dashboard then
logs, caches, rate-limits and guards them. After a call the binding's `aiGatewayLogId` names the
call's log, which the call's record keeps (D1 ai_calls.gateway_log_id). Plain Python."""

from collections.abc import Mapping
from typing import Any

from shared.json_reader import parse_json
from shared.limits import MAX_BODY_BYTES

# AI Gateway takes at most five entries of custom metadata, each a string, number or boolean.
MAX_METADATA_ENTRIES = 5


class GatewayConfigError(ValueError):
    """AI_GATEWAY_METADATA that AI Gateway would refuse: named, so the log says why."""


def parse_metadata(text: str) -> dict[str, str | int | float | bool]:
    try:
        metadata = parse_json(text, max_bytes=MAX_BODY_BYTES, field="AI_GATEWAY_METADATA")
    except ValueError as exc:
        raise GatewayConfigError(str(exc)) from None
    if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA_ENTRIES:
        raise GatewayConfigError(f"AI_GATEWAY_METADATA: a JSON object of at most {MAX_METADATA_ENTRIES} entries")
    for name, value in metadata.items():
        if not isinstance(value, (str, int, float, bool)):
            raise GatewayConfigError(f"AI_GATEWAY_METADATA: {name} must be a string, a number or a boolean")
    return metadata


def gateway_options(gateway_id: str | None, skip_cache: bool, cache_ttl_seconds: int | None,
                    metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The binding's third argument for a call through the gateway; None without one."""
    if not gateway_id:
        return None
    gateway: dict[str, Any] = {"id": gateway_id}
    if skip_cache:
        gateway["skipCache"] = True
    if cache_ttl_seconds is not None:
        gateway["cacheTtl"] = cache_ttl_seconds
    if metadata:
        gateway["metadata"] = dict(metadata)
    return {"gateway": gateway}
