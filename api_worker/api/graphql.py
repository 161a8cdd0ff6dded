"""/graphql: POST runs queries and mutations, GET queries only (GraphQL over HTTP, api/graphql_http.py),
in GraphQL's response shape. Resolvers reach data only through the inference service's RPC methods."""

import gc
from dataclasses import dataclass
from datetime import UTC, datetime
from inspect import isawaitable
from typing import Any

from graphql import DocumentNode, GraphQLError, execute, parse, validate
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from api import admission, bodies
from api.auth import require_admin
from api.call import RequestContext, json_text_response
from api.graphql_http import (
    GRAPHQL_RESPONSE,
    MAX_QUERY_BYTES,
    MAX_VARIABLES_BYTES,
    GraphQLBody,
    answer_type,
    body_from_query_string,
    formatted_error,
    is_mutation,
    refused_over_get,
    request_errors,
)
from api.ingestion import batch_limit, ingest
from api.runtime import Response
from api.schema import schema, selects_static_fields_only, validation_rules
from shared.analytics import EventQuery, MetricQuery
from shared.bounded import BoundedMap
from shared.contract import AlertQuery, Caller, KeyPolicyChange, KeyRotation, KeySpec, Retrieval
from shared.documents import SearchRequest
from shared.errors import ApiError, ErrorCode
from shared.models import ALL_MODELS, ModelInfo
from shared.payloads import PayloadRef


@dataclass
class Execution:
    """What the resolvers of one GraphQL request share (graphql-core's context value)."""

    request: RequestContext
    tracked_events: int = 0  # events tracked so far by the request's trackEvents fields


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# Fields of GraphQL's JSON scalar type: the client's own data, whose keys are never renamed.
JSON_FIELDS = frozenset({"properties", "enrichment"})


def _camelize(value: Any) -> Any:
    """Field names in GraphQL's case, through nested records but not into JSON values."""
    if isinstance(value, dict):
        return {_camel(k): v if k in JSON_FIELDS else _camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camelize(v) for v in value]
    return value


def _with_tier_enum(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "tier": str(record["tier"]).upper()}


def _key_record(key: BaseModel) -> dict[str, Any]:
    """A key (or a usage report) as GraphQL answers it: its enums upper case, its policy's
    metadata (the admin's own data) as given."""
    dumped = key.model_dump(mode="json")
    record = _with_tier_enum(_camelize(dumped))
    for name in ("policy", "budget"):
        if record.get(name):
            record[name] = {**record[name], "budgetPeriod": str(record[name].get("budgetPeriod", "")).upper(),
                            "period": str(record[name].get("period", "")).upper()}
    if dumped.get("policy"):
        record["policy"]["metadata"] = dumped["policy"].get("metadata")
    return record


def _policy_input(policy: dict[str, Any] | None) -> dict[str, Any] | None:
    """KeyPolicyInput in the contract's names (shared/policy.py)."""
    if policy is None:
        return None
    snake = {"".join(f"_{c.lower()}" if c.isupper() else c for c in name): value for name, value in policy.items()}
    if snake.get("budget_period"):
        snake["budget_period"] = str(snake["budget_period"]).lower()
    return snake


def _capabilities(model: ModelInfo) -> dict[str, Any] | None:
    if model.task != "text-generation":
        return None
    c = model.capabilities.as_dict(model.context_window)
    return {"tools": c["tools"], "vision": c["vision"], "jsonMode": c["json_mode"], "toolStreaming": c["tool_streaming"],
            "contextWindow": c["context_window"], "options": c["options"]}


def _models(info: Any) -> list[dict[str, Any]]:
    return [{"id": m.id, "ownedBy": m.owned_by, "task": m.task, "inputPrice": m.input_price, "outputPrice": m.output_price,
             "capabilities": _capabilities(m)} for m in ALL_MODELS]


async def _usage(info: Any) -> dict[str, Any]:
    call = info.context.request
    return _key_record(await call.inference.get_usage(call.caller))


async def _unindexed_batches(info: Any) -> list[dict[str, Any]]:
    require_admin(info.context.request)
    return [_camelize(batch.model_dump()) for batch in await info.context.request.inference.unindexed_batches()]


async def _api_keys(info: Any) -> list[dict[str, Any]]:
    require_admin(info.context.request)
    return [_key_record(k) for k in await info.context.request.inference.list_keys()]


def _created(created: BaseModel) -> dict[str, Any]:
    record = _key_record(created)
    key = record.pop("key")
    return {"key": key, "apiKey": record}


async def _create_api_key(info: Any, name: str, tier: str = "FREE", policy: dict[str, Any] | None = None) -> dict[str, Any]:
    require_admin(info.context.request)
    spec = _query(KeySpec, name=name, tier=tier.lower(), policy=_policy_input(policy))
    return _created(await info.context.request.inference.create_key(spec))


async def _set_api_key_policy(info: Any, id: str, policy: dict[str, Any] | None = None) -> dict[str, Any]:  # noqa: A002
    require_admin(info.context.request)
    change = _query(KeyPolicyChange, key_id=id, policy=_policy_input(policy))
    updated = await info.context.request.inference.set_key_policy(change)
    admission.isolate.forget_key(id)
    return _key_record(updated)


async def _rotate_api_key(info: Any, id: str, graceSeconds: int = 3600) -> dict[str, Any]:  # noqa: A002, N803 (GraphQL's names)
    require_admin(info.context.request)
    rotation = _query(KeyRotation, key_id=id, grace_seconds=graceSeconds)
    created = await info.context.request.inference.rotate_key(rotation)
    admission.isolate.forget_key(id)
    return _created(created)


async def _alerts(info: Any, keyId: str | None = None, first: int = 50) -> list[dict[str, Any]]:  # noqa: N803 (GraphQL's name)
    call = info.context.request
    scope = keyId if call.is_admin else _scope(info, keyId).key_id
    query = _query(AlertQuery, key_id=scope, first=first)
    return [_camelize(alert.model_dump()) for alert in await call.inference.list_alerts(query)]


async def _revoke_api_key(info: Any, id: str) -> bool:  # noqa: A002 (the GraphQL argument's name)
    require_admin(info.context.request)
    revoked = await info.context.request.inference.revoke_key(id)
    admission.isolate.forget_key(id)
    return revoked


async def _payload_log(info: Any, callId: str) -> dict[str, Any]:  # noqa: N803 (the GraphQL argument's name)
    require_admin(info.context.request)
    ref = _query(PayloadRef, call_id=callId)
    return _camelize((await info.context.request.inference.get_payload(ref)).model_dump(mode="json"))


def _scope(info: Any, key_id: str | None) -> Caller:
    """Whose data a query reads: the caller's own, or, for the admin, the caller it names."""
    if key_id is None:
        return info.context.request.caller
    require_admin(info.context.request)
    return Caller(key_id=key_id)


def _instant_ms(value: str, field: str) -> int:
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError as exc:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{field}: not an ISO 8601 instant", field=field) from exc


def _query(model: type[BaseModel], **fields: Any) -> BaseModel:
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{field}: {message}" if field else message, field=field or "query") from exc


async def _event_metrics(info: Any, metric: str, range: dict[str, str], bucket: str | None = "HOUR",  # noqa: A002
                         filter: dict[str, Any] | None = None, keyId: str | None = None) -> dict[str, Any]:  # noqa: A002, N803
    call = info.context.request
    # An explicit null means the default, as leaving the argument out does.
    query = _query(MetricQuery, caller=_scope(info, keyId), metric=metric.lower(), bucket=(bucket or "HOUR").lower(),
                   start_ms=_instant_ms(range["from"], "range.from"), end_ms=_instant_ms(range["to"], "range.to"),
                   filter={k: v for k, v in (filter or {}).items() if v is not None})
    series = (await call.inference.get_metrics(query)).model_dump(mode="json")
    return {**series, "metric": series["metric"].upper(), "bucket": series["bucket"].upper()}


async def _events(info: Any, filter: dict[str, Any] | None = None, first: int | None = 50, after: str | None = None,  # noqa: A002
                  keyId: str | None = None) -> dict[str, Any]:  # noqa: N803 (the GraphQL argument's name)
    call = info.context.request
    filter = filter or {}
    query = _query(EventQuery, caller=_scope(info, keyId), first=50 if first is None else first, after=after, type=filter.get("type"),
                   component=filter.get("component"), session_id=filter.get("sessionId"))
    page = await call.inference.list_events(query)
    edges = []
    for event in page.events:
        node = _camelize(event.model_dump(mode="json"))
        node["timestamp"] = datetime.fromtimestamp(node.pop("ts") / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        edges.append({"cursor": node.pop("cursor"), "node": node})
    return {"edges": edges, "pageInfo": {"hasNextPage": page.has_next_page, "endCursor": page.end_cursor}}


async def _track_events(info: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
    execution: Execution = info.context
    call = execution.request
    # Every trackEvents of one request (aliases included) shares one batch's worth of events.
    execution.tracked_events += len(events)
    if execution.tracked_events > (limit := batch_limit(call)):
        raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, f"events: at most {limit} a request across every trackEvents",
                       field="events", limit=limit)
    # Admitted as a GraphQL request: the inference service reserves the events of the daily quota (api/ingestion.py).
    raw = [{k: v for k, v in event.items() if v is not None} for event in events]
    return await ingest(call, raw)


async def _documents(info: Any) -> list[dict[str, Any]]:
    call = info.context.request
    return [_camelize(d.model_dump(mode="json")) for d in await call.inference.list_documents(call.caller)]


async def _search(info: Any, query: str, topK: int = 4, minScore: float = 0.5, documents: list[str] | None = None) -> list[dict[str, Any]]:  # noqa: N803 (GraphQL's names)
    call = info.context.request
    try:
        request = SearchRequest(request_id=call.request_id, caller=call.caller, query=query,
                                retrieval=Retrieval(top_k=topK, min_score=minScore, documents=documents))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    return [_camelize(source.model_dump()) for source in (await call.inference.search(request, call.admission)).sources]


ROOT = {
    "documents": _documents,
    "search": _search,
    "eventMetrics": _event_metrics,
    "events": _events,
    "trackEvents": _track_events,
    "models": _models,
    "usage": _usage,
    "apiKeys": _api_keys,
    "unindexedBatches": _unindexed_batches,
    "payloadLog": _payload_log,
    "createApiKey": _create_api_key,
    "revokeApiKey": _revoke_api_key,
    "setApiKeyPolicy": _set_api_key_policy,
    "rotateApiKey": _rotate_api_key,
    "alerts": _alerts,
}


# Parsed and validated documents (or their errors), per isolate: clients send the same few
# queries again and again, and parsing and validating one costs more than executing it. Bounded
# by entries and by bytes (a parsed document takes over 100 times its query's text: a 3 KB query
# ~430 KB), so a flood of distinct or large queries only recycles the least recently used
# (shared/bounded.py).
MAX_CHECKED_DOCUMENTS = 256
MAX_CHECKED_BYTES = 1024 * 1024
_checked: BoundedMap[tuple[str, bool], DocumentNode | list[dict[str, Any]]] = BoundedMap(MAX_CHECKED_DOCUMENTS, MAX_CHECKED_BYTES)


def checked_document(query: str, introspection: bool) -> DocumentNode | list[dict[str, Any]]:
    """The query's document, or the errors (formatted) that make it unacceptable."""
    key = (query, introspection)
    if (known := _checked.get(key)) is not None:
        return known
    try:
        document = parse(query)
    except GraphQLError as error:
        checked: DocumentNode | list[dict[str, Any]] = [formatted_error(error)]
    else:
        errors = validate(schema, document, validation_rules(introspection))
        checked = [formatted_error(e) for e in errors] if errors else document
        # Validation leaves its visitors in reference cycles (~80 KB a new query), which Python's
        # collector would reclaim only later: meanwhile they grow Pyodide's linear memory, which
        # never shrinks (one 20% step, +8.7 MiB, after ~80 new queries: docs/benchmarks.md,
        # Memory). Still young now, they go for ~0.1 ms, paid by a new query only.
        gc.collect(0)
    _checked.put(key, checked)
    return checked


# Answers of queries of static fields only (api/schema.py), per query text and variables: the same
# for every caller. Bounded like the documents (a key holds a query and its variables, up to 200 KB).
MAX_STATIC_ANSWERS = 64
MAX_STATIC_ANSWER_BYTES = 256 * 1024
_static_answers: BoundedMap[tuple[str, bool, str | None, bytes], str] = BoundedMap(MAX_STATIC_ANSWERS, MAX_STATIC_ANSWER_BYTES)


def _answer(call: RequestContext, answer: str, media_type: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_text_response(answer, status, call.request_id, {"content-type": media_type, **(headers or {})})


async def _run(call: RequestContext, body: GraphQLBody, method: str) -> Response:
    media_type = answer_type(call.headers.get("accept"))
    introspection = call.settings.graphql_introspection
    document = checked_document(body.query, introspection)
    if isinstance(document, list):
        return _answer(call, to_json({"errors": document}).decode(), media_type, 400)
    if method == "GET" and is_mutation(document, body.operationName):
        return _answer(call, to_json(refused_over_get()).decode(), media_type, 405, {"allow": "POST"})
    if media_type == GRAPHQL_RESPONSE and (errors := request_errors(document, body)):
        # With this media type a request that cannot execute has no `data` and a 4xx (application/json
        # keeps the 200 and `"data": null` its older clients expect).
        return _answer(call, to_json({"errors": [formatted_error(e) for e in errors]}).decode(), media_type, 400)
    kept = None
    if selects_static_fields_only(document, body.operationName):
        kept = (body.query, introspection, body.operationName, to_json(body.variables))
        if (answer := _static_answers.get(kept)) is not None:
            return _answer(call, answer, media_type)
    result = execute(schema, document, root_value=ROOT, context_value=Execution(call),
                     variable_values=body.variables, operation_name=body.operationName)
    if isawaitable(result):  # only when a resolver is async: not for introspection alone
        result = await result
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [formatted_error(e) for e in result.errors]
    answer = to_json(response).decode()
    if kept is not None and not result.errors:
        _static_answers.put(kept, answer)
    return _answer(call, answer, media_type)


async def post_graphql(call: RequestContext) -> Response:
    return await _run(call, await bodies.read_body(call.request, GraphQLBody, MAX_QUERY_BYTES + MAX_VARIABLES_BYTES), "POST")


async def get_graphql(call: RequestContext) -> Response:
    """A query from the query string (a browser asking for a page is sent to GraphiQL: api/routes.py)."""
    return await _run(call, body_from_query_string(call.query), "GET")
