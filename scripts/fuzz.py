"""`make fuzz`: the fuzzer of tests/e2e/fuzz.py, long, against a workerd host started for the run
(or E2E_BASE_URL with E2E_ADMIN_TOKEN). Prints the answers counted by status and every
undeliberate 5xx or shapeless 4xx; exits 1 if there is any, or if the host stopped.

    make fuzz                                   # 5,000 requests, seed 1
    make fuzz ARGS="--requests 20000 --seed 7"
"""

import argparse
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.localhost import FRESH_CONNECTIONS, UNLIMITED_ENTERPRISE, LocalHost, script_target  # noqa: E402
from tests.e2e.fuzz import fuzz  # noqa: E402

ADMIN_TOKEN = "fuzz-admin-token"
VARIABLES = {"JWT_SECRET": "fuzz-jwt-secret", **UNLIMITED_ENTERPRISE}


def run(url: str, admin_token: str, requests: int, seed: int, host: LocalHost | None) -> int:
    created = httpx.post(f"{url}/graphql", headers={"authorization": f"Bearer {admin_token}"}, json={
        "query": 'mutation { createApiKey(name: "fuzz", tier: ENTERPRISE) { key } }'}).json()
    key = created["data"]["createApiKey"]["key"]
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60, limits=FRESH_CONNECTIONS, headers={"authorization": f"Bearer {key}"}) as client:
        findings = fuzz(client, requests, seed)
        alive = client.get("/health").status_code == 200 and (host is None or host.process.poll() is None)
    took = time.perf_counter() - started
    total = sum(findings.statuses.values())
    print(f"{total} requests in {took:.0f} s (seed {seed}); answers by status:")
    for status, count in sorted(findings.statuses.items(), key=str):
        print(f"  {status}: {count}")
    for title, found in (("undeliberate 5xx", findings.undeliberate), ("4xx without the error shape", findings.bad_shape)):
        print(f"{title}: {len(found)}")
        for line in found[:20]:
            print(f"  {line}")
    print(f"plain-text streams ended abnormally (how such a stream reports a failure): {len(findings.aborted_text_streams)}")
    print(f"host still serving, never restarted: {alive}")
    return 0 if alive and not findings.undeliberate and not findings.bad_shape else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with script_target(ADMIN_TOKEN, VARIABLES) as (url, token, host):
        sys.exit(run(url, token, args.requests, args.seed, host))

if __name__ == "__main__":
    main()
