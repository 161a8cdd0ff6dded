"""The smoke test of a deployment, run after it is deployed (.github/workflows/deploy.yml, or
`npm run smoke -- --url https://inference-ui-api.<you>.workers.dev`): the api answers, its public
/health says ok, and with ADMIN_TOKEN in the environment the deep check (every backend, each
binding written to and a 1-token model call: api/health.py) says ok on every backend. A new
version takes a few seconds to reach every location: each check is tried `--attempts` times.
Exits 0 when every check passed, 1 naming the first that did not (the workflow then rolls back).
Standard library only: it runs before anything is installed, or anywhere."""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Check = Callable[[str, str | None], str | None]  # (base url, admin token) -> None, or what is wrong
TIMEOUT_SECONDS = 30


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    """The status and the JSON body of GET `url` (None when it is not JSON)."""
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def public_health(base: str, _token: str | None) -> str | None:
    status, body = _get(f"{base}/health")
    if status != 200 or not isinstance(body, dict) or body.get("status") != "ok":
        return f"GET /health answered {status}: {json.dumps(body)[:500]}"
    return None


def deep_health(base: str, token: str | None) -> str | None:
    status, body = _get(f"{base}/health?deep=1", token)
    if status == 200 and isinstance(body, dict) and body.get("status") == "ok":
        return None
    backends = body.get("backends", {}) if isinstance(body, dict) else {}
    failing = {name: backend.get("error") or {binding: check.get("error") for binding, check in backend.get("bindings", {}).items()
                                               if not check.get("ok")}
               for name, backend in backends.items() if backend.get("status") != "ok"}
    return f"GET /health?deep=1 answered {status}: " + (json.dumps(failing) if failing else json.dumps(body)[:500])


def openapi(base: str, _token: str | None) -> str | None:
    status, body = _get(f"{base}/openapi.json")
    if status != 200 or not isinstance(body, dict) or "paths" not in body:
        return f"GET /openapi.json answered {status}"
    return None


def checks_for(token: str | None) -> list[tuple[str, Check]]:
    checks: list[tuple[str, Check]] = [("the public health check", public_health), ("the OpenAPI document", openapi)]
    if token:
        checks.append(("the deep health check of every backend", deep_health))
    return checks


def run(base: str, token: str | None, attempts: int, interval: float) -> int:
    base = base.rstrip("/")
    for what, check in checks_for(token):
        for attempt in range(1, attempts + 1):
            try:
                problem = check(base, token)
            except (OSError, urllib.error.URLError) as exc:  # unreachable, refused, timed out
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None:
                print(f"==> smoke: {what}: ok", flush=True)
                break
            print(f"==> smoke: {what}: attempt {attempt}/{attempts} failed: {problem}", flush=True)
            if attempt < attempts:
                time.sleep(interval)
        else:
            print(f"==> smoke test failed: {what}")
            return 1
    if not token:
        print("==> smoke: no ADMIN_TOKEN in the environment: the deep check was skipped")
    print(f"==> smoke test passed: {base}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("SMOKE_TEST_URL"), help="the api worker's URL (default: $SMOKE_TEST_URL)")
    parser.add_argument("--attempts", type=int, default=6, help="tries of each check before it fails")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between tries")
    args = parser.parse_args()
    if not args.url:
        parser.error("--url (or SMOKE_TEST_URL) names the deployment to test")
    return run(args.url, os.environ.get("ADMIN_TOKEN") or None, max(1, args.attempts), max(0.0, args.interval))


if __name__ == "__main__":
    sys.exit(main())
