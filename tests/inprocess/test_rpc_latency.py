"""The RPC hop's latency per method in GraphQL (RPC_LATENCY): each inference isolate counts its
work calls' times and writes them once a minute at most; a caller sees only its own calls."""

from datetime import UTC, datetime, timedelta

import httpx

from shared.rpc_latency import BUCKET_BOUNDS_MS
from tests.inprocess.host import ORIGIN

CHAT = {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "how long does the hop take?"}]}]}
QUERY = "query($r: TimeRange!) { eventMetrics(metric: RPC_LATENCY, range: $r, bucket: DAY) { totals { key value } } }"


def rpc_latency(client: httpx.Client, now: datetime) -> dict[str, float]:
    window = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}
    answer = client.post("/graphql", json={"query": QUERY, "variables": {"r": window}}).json()
    return {t["key"]: t["value"] for t in answer["data"]["eventMetrics"]["totals"]}


def test_a_callers_rpc_latency_per_method_is_in_graphql_once_its_isolate_flushed(host, new_key, clock):
    caller, other = new_key("pro", "rpc-latency")["key"], new_key("pro", "rpc-latency-other")["key"]
    with httpx.Client(base_url=ORIGIN, transport=host.transport(), headers={"authorization": f"Bearer {caller}"}) as client, \
            httpx.Client(base_url=ORIGIN, transport=host.transport(), headers={"authorization": f"Bearer {other}"}) as neighbour:
        for _ in range(3):
            assert client.post("/stream/chat", json=CHAT).status_code == 200
        clock.advance(61)  # past the flush interval: the next call writes the isolate's counts
        assert client.post("/v1/embeddings", json={"model": "@cf/baai/bge-base-en-v1.5", "input": ["a"]}).status_code == 200
        now = datetime.fromtimestamp(clock.time(), UTC)

        latency = rpc_latency(client, now)
        assert set(latency) == {f"{method}:{p}" for method in ("stream_generation", "embed") for p in ("p50", "p95", "p99")}
        assert all(value in BUCKET_BOUNDS_MS for value in latency.values())
        assert latency["stream_generation:p50"] <= latency["stream_generation:p99"]
        assert rpc_latency(neighbour, now) == {}  # another caller's hop is not its to see
