"""Where a route's Python time goes: cProfile in both workers on workerd (a host started with
--profile: local/workerd/profiler.py), over N requests of one route.

    make profile ROUTE=models            # or: .venv/bin/python scripts/profile.py models -n 50
    routes: health, models, graphql, events, chat (a 411-token stream), chat1 (a 1-token stream: a
    chat's fixed cost), tools (a streamed tool call and the answer to its output), embeddings (100 texts)
"""

import argparse
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.bench import (  # noqa: E402
    ADMIN_TOKEN,
    ALL_TOKENS,
    CONFIGS,
    EMBEDDINGS,
    JWT_SECRET,
    ONE_TOKEN,
    TOOL_CALL_CHAT,
    TOOL_RESULT_CHAT,
    create_key,
    event_batch,
    stream_send,
)
from scripts.localhost import LocalHost, scratch_state  # noqa: E402

SENDS = {
    "health": lambda c, _i: c.get("/health").raise_for_status(),
    "models": lambda c, _i: c.get("/v1/models").raise_for_status(),
    "graphql": lambda c, _i: c.post("/graphql", json={"query": "{ models { id } }"}).raise_for_status(),
    "events": lambda c, i: c.post("/events", json=event_batch(2000 + i)).raise_for_status(),
    "chat": stream_send(ALL_TOKENS),
    "chat1": stream_send(ONE_TOKEN),
    "tools": lambda c, i: (stream_send(TOOL_CALL_CHAT)(c, i), stream_send(TOOL_RESULT_CHAT)(c, i)),
    "embeddings": lambda c, _i: c.post("/v1/embeddings", json=EMBEDDINGS).raise_for_status(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("route", choices=sorted(SENDS))
    parser.add_argument("-n", type=int, default=50, help="profiled requests")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", help="pstats sort key: tottime, cumulative, ncalls")
    args = parser.parse_args()
    send = SENDS[args.route]
    with scratch_state() as state, \
            LocalHost(CONFIGS, Path(state), variables={"ADMIN_TOKEN": ADMIN_TOKEN, "JWT_SECRET": JWT_SECRET}, profile=True) as host:
        headers = {"authorization": f"Bearer {create_key(host.url)}"}
        with httpx.Client(base_url=host.url, timeout=60, headers=headers) as client:
            for i in range(3):
                send(client, -1 - i)
            client.post("/__devhost/profile", json={"action": "start"}).raise_for_status()
            for i in range(args.n):
                send(client, i)
            profiles = client.post("/__devhost/profile", json={"action": "stop", "top": args.top, "sort": args.sort}).json()["profiles"]
    for worker, text in profiles.items():
        print(f"===== {worker}: {args.n} x {args.route}, sorted by {args.sort}")
        print("\n".join(line for line in text.splitlines() if line.strip()))


if __name__ == "__main__":
    main()
