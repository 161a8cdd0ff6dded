"""`make fuzz`: the fuzzer of tests/e2e/fuzz.py, long, against a workerd host started for the run
(or E2E_BASE_URL with E2E_ADMIN_TOKEN, and E2E_JWT_SECRET for signed hostile JWTs). Prints the
answers counted by status, every undeliberate 5xx, shapeless 4xx, traceback and dropped
connection, and how often the runtime restarted (with where each crash happened); then requests
made from the OpenAPI document (schemathesis: tests/e2e/openapi_fuzz.py) and every answer the
document does not describe; exits 1 if there is any of them.

    make fuzz                                   # 5,000 requests, seed 1
    make fuzz ARGS="--requests 20000 --seed 7 --openapi-examples 200"
"""

import argparse
import os
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "api_worker")]  # the fuzzer reads the api's route table
from schemathesis import GenerationMode  # noqa: E402

from scripts.localhost import FRESH_CONNECTIONS, UNLIMITED_ENTERPRISE, LocalHost, script_target  # noqa: E402
from tests.e2e.fuzz import fuzz  # noqa: E402
from tests.e2e.openapi_fuzz import check_against_document  # noqa: E402

ADMIN_TOKEN = "fuzz-admin-token"
JWT_SECRET = "fuzz-jwt-secret"
# The fuzzer presents thousands of bad credentials from one address: none may lock it out.
VARIABLES = {"JWT_SECRET": JWT_SECRET, "FAILED_AUTH_PER_MINUTE": "100000000", **UNLIMITED_ENTERPRISE}


def run(url: str, admin_token: str, requests: int, seed: int, host: LocalHost | None, jwt_secret: str | None,
        openapi_examples: int) -> int:
    created = httpx.post(f"{url}/graphql", headers={"authorization": f"Bearer {admin_token}"}, json={
        "query": 'mutation { createApiKey(name: "fuzz", tier: ENTERPRISE) { key } }'}).json()
    key = created["data"]["createApiKey"]["key"]
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60, limits=FRESH_CONNECTIONS, headers={"authorization": f"Bearer {key}"}) as client:
        findings = fuzz(client, requests, seed, jwt_secret)
        took = time.perf_counter() - started
        started = time.perf_counter()
        from_document = check_against_document(url, {"authorization": f"Bearer {key}"}, openapi_examples, seed,
                                               modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
        document_took = time.perf_counter() - started
        serving = client.get("/health").status_code == 200
    total = sum(findings.statuses.values())
    print(f"{total} requests in {took:.0f} s (seed {seed}); answers by status:")
    for status, count in sorted(findings.statuses.items(), key=str):
        print(f"  {status}: {count}")
    for title, found in findings.failures.items():
        print(f"{title}: {len(found)}")
        for line in found[:20]:
            print(f"  {line}")
    print(f"refused by the HTTP server before any worker (not the worker's to shape): {len(findings.refused_by_server)}")
    print(f"plain-text streams ended abnormally (how such a stream reports a failure): {len(findings.aborted_text_streams)}")
    print(f"{from_document.cases} requests made from docs/openapi.json (schemathesis, {openapi_examples} an operation and mode) "
          f"in {document_took:.0f} s; answers by status:")
    for status, count in sorted(from_document.statuses.items()):
        print(f"  {status}: {count}")
    print(f"answers the document does not describe, or 5xx: {len(from_document.failures)}")
    for line in from_document.failures[:20]:
        print(f"  {line}")
    restarts = host.runtime_restarts() if host is not None else 0
    if host is not None:
        print(f"runtime restarts: {restarts}")
        for site in host.crash_sites():
            print(f"  crashed in {site}")
    else:
        print("runtime restarts: not observable on a remote server")
    print(f"still serving: {serving}")
    failed = any(findings.failures.values()) or from_document.failures or restarts or not serving
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--openapi-examples", type=int, default=50,
                        help="requests schemathesis makes from docs/openapi.json per operation and mode (allowed, not allowed)")
    args = parser.parse_args()
    with script_target(ADMIN_TOKEN, VARIABLES) as (url, token, host):
        jwt_secret = JWT_SECRET if host is not None else os.environ.get("E2E_JWT_SECRET")
        sys.exit(run(url, token, args.requests, args.seed, host, jwt_secret, args.openapi_examples))

if __name__ == "__main__":
    main()
