"""A key's own policy on the runtime (shared/policy.py): allowed models, a budget that alerts at its
soft limit (to a webhook this test serves) before it stops the key, requests in flight at once,
rotation with a grace period, expiry."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from shared.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from tests.e2e.conftest import PROJECT_ROOT, TEST_ALERT_WEBHOOK_PORT, TEST_ALERT_WEBHOOK_SECRET, host_only

ADMIN_KEY_FIELDS = "id prefix tier policy { allowedModels budgetUsd budgetPeriod softBudgetUsd maxConcurrent expiresAt metadata }"


def admin(client: httpx.Client, admin_token: str, query: str, variables: dict) -> dict:
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {admin_token}"})
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


def create(client: httpx.Client, admin_token: str, policy: dict, tier: str = "PRO") -> dict:
    created = admin(client, admin_token, f"mutation($p: KeyPolicyInput, $t: Tier) {{ createApiKey(name: \"policy\", tier: $t, policy: $p) "
                                         f"{{ key apiKey {{ {ADMIN_KEY_FIELDS} }} }} }}", {"p": policy, "t": tier})["createApiKey"]
    return {"key": created["key"], **created["apiKey"]}


def chat(client: httpx.Client, key: str, model: str = "llama-3.1-8b", text: str = "hello") -> httpx.Response:
    return client.post("/v1/chat/completions", headers={"authorization": f"Bearer {key}"},
                       json={"model": model, "messages": [{"role": "user", "content": text}]})


class Webhook:
    """A webhook receiver on the port the host's ALERT_WEBHOOK_URL names: every POST kept."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], str]] = []  # the POSTs it took (answered 204)
        self.refused: list[str] = []  # the bodies it answered 500, while `failures` lasted
        self.failures = 0
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                if webhook.failures > 0:
                    webhook.failures -= 1
                    webhook.refused.append(body)
                    self.send_response(500)
                else:
                    webhook.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", TEST_ALERT_WEBHOOK_PORT), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts_of(self, key_id: str) -> list[tuple[dict[str, str], dict]]:
        return [(headers, json.loads(body)) for headers, body in self.received if json.loads(body)["key_id"] == key_id]


@pytest.fixture(scope="module")
def webhook():
    receiver = Webhook()
    yield receiver
    receiver.server.shutdown()


def test_a_key_allowed_one_model_is_refused_another_with_a_403_naming_it(anonymous, admin_token):
    key = create(anonymous, admin_token, {"allowedModels": ["llama-3.1-8b"]})
    assert key["policy"]["allowedModels"] == ["@cf/meta/llama-3.1-8b-instruct-fast"]

    refused = chat(anonymous, key["key"], model="llama-3.3-70b")
    allowed = chat(anonymous, key["key"], model="llama-3.1-8b")

    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "model_not_allowed" and error["param"] == "model"
    assert "@cf/meta/llama-3.3-70b-instruct-fp8-fast" in error["message"]
    assert allowed.status_code == 200, allowed.text


@host_only
def test_a_budget_stops_the_key_after_its_spend_and_alerts_once_at_its_soft_limit(anonymous, admin_token, webhook, ai):
    key = create(anonymous, admin_token, {"budgetUsd": 0.0001, "softBudgetUsd": 0.00005, "budgetPeriod": "DAY"})
    statuses = []
    for _ in range(60):
        response = chat(anonymous, key["key"])
        statuses.append(response.status_code)
        if response.status_code != 200:
            break

    assert statuses[-1] == 429 and set(statuses[:-1]) == {200} and len(statuses) > 2, statuses
    error = response.json()["error"]
    assert error["code"] == "budget_exceeded" and int(response.headers["retry-after"]) > 0
    usage = anonymous.post("/graphql", headers={"authorization": f"Bearer {key['key']}"},
                           json={"query": "{ usage { budget { limitUsd spentUsd remainingUsd period } } }"}).json()["data"]["usage"]
    assert usage["budget"]["limitUsd"] == 0.0001 and usage["budget"]["spentUsd"] >= 0.0001 and usage["budget"]["remainingUsd"] == 0
    assert usage["budget"]["period"] == "DAY"

    deadline = time.monotonic() + 20
    while not any(alert["kind"] == "budget_reached" for _, alert in webhook.alerts_of(key["id"])):
        assert time.monotonic() < deadline, f"no webhook call for the budget: {webhook.received}"
        time.sleep(0.2)
    soft = [(headers, alert) for headers, alert in webhook.alerts_of(key["id"]) if alert["kind"] == "budget_soft"]
    assert len(soft) == 1, soft  # once, though every later call was over the soft limit too
    headers, alert = soft[0]
    body = next(body for h, body in webhook.received if h is headers)
    assert headers[SIGNATURE_HEADER] == signature(TEST_ALERT_WEBHOOK_SECRET, int(headers[TIMESTAMP_HEADER]), body)
    assert alert["limit_value"] == 0.00005 and alert["value"] >= 0.00005
    listed = admin(anonymous, admin_token, "query($k: ID) { alerts(keyId: $k) { kind limitValue } apiKeys { id budget { spentUsd } } }",
                   {"k": key["id"]})
    assert sorted(a["kind"] for a in listed["alerts"]) == ["budget_reached", "budget_soft"]
    assert next(k for k in listed["apiKeys"] if k["id"] == key["id"])["budget"]["spentUsd"] == usage["budget"]["spentUsd"]


@host_only
def test_an_alert_the_webhook_refuses_is_retried_through_the_queue_until_it_takes_it(anonymous, admin_token, webhook, ai):
    key = create(anonymous, admin_token, {"budgetUsd": 1, "softBudgetUsd": 0.000001, "budgetPeriod": "DAY"})
    webhook.failures = 2

    assert chat(anonymous, key["key"]).status_code == 200  # one chat's spend passes the soft limit

    deadline = time.monotonic() + 20
    while not webhook.alerts_of(key["id"]):
        assert time.monotonic() < deadline, f"never delivered; refused: {webhook.refused}"
        time.sleep(0.2)
    assert [json.loads(body)["key_id"] for body in webhook.refused] == [key["id"]] * 2
    assert [alert["kind"] for _, alert in webhook.alerts_of(key["id"])] == ["budget_soft"]
    while not (listed := admin(anonymous, admin_token, "query($k: ID) { alerts(keyId: $k) { kind deliveredAt } }", {"k": key["id"]})["alerts"])[0]["deliveredAt"]:
        assert time.monotonic() < deadline, listed
        time.sleep(0.2)


@host_only
def test_30_concurrent_requests_on_a_key_with_5_in_flight_at_most_run_5_and_refuse_the_rest(base_url, anonymous, admin_token, ai):
    key = create(anonymous, admin_token, {"maxConcurrent": 5})
    ai.set(tokenDelayMs=150)  # each answer streams for a few seconds: the first 5 are still in flight
    chat_body = {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "a long question " * 10}]}]}

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=30, max_keepalive_connections=30)
        async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits, headers={"x-api-key": key["key"]}) as client:
            return await asyncio.gather(*(client.post("/stream/chat", json=chat_body) for _ in range(30)))

    responses = asyncio.run(burst())

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [429] * 25, statuses
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 429} == {"concurrency_limit_exceeded"}
    ai.set(tokenDelayMs=0)
    assert chat(anonymous, key["key"]).status_code == 200  # the 5 done, their places are free again


@host_only  # one inference isolate: on Cloudflare a next request through another isolate may find its place held for USAGE_FLUSH_MS
def test_a_key_with_one_request_in_flight_runs_chats_one_after_another_and_reads_them_all_counted(anonymous, admin_token):
    # Each answer's usage (which frees its place) reaches the key's counter after its end, with the
    # key's next request; the usage read right after the last one counts them all.
    key = create(anonymous, admin_token, {"maxConcurrent": 1})
    headers = {"x-api-key": key["key"]}
    chat_body = {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "hello"}]}]}

    statuses = [anonymous.post("/stream/chat", json=chat_body, headers=headers).status_code for _ in range(8)]
    usage = anonymous.get("/v1/usage", headers=headers).json()

    assert statuses == [200] * 8
    assert usage["requests"] == 8 and usage["completion_tokens"] > 0, usage


def test_a_keys_tokens_a_minute_stop_it_with_a_429_naming_the_limit(anonymous, admin_token):
    key = create(anonymous, admin_token, {"tokensPerMinute": 100})  # a chat here uses ~40 tokens

    statuses = []
    for _ in range(10):  # 100 tokens are used within 3 chats of one minute, 6 across a minute's edge
        response = chat(anonymous, key["key"])
        statuses.append(response.status_code)
        if response.status_code != 200:
            break

    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}, statuses
    assert response.json()["error"]["code"] == "tokens_per_minute_exceeded"
    assert 0 < int(response.headers["retry-after"]) <= 60


@host_only
def test_a_rotated_keys_old_secret_works_in_its_grace_period_and_not_after(anonymous, admin_token):
    key = create(anonymous, admin_token, {})
    rotated = admin(anonymous, admin_token, "mutation($id: ID!) { rotateApiKey(id: $id, graceSeconds: 2) { key apiKey { id prefix previousValidUntil } } }",
                    {"id": key["id"]})["rotateApiKey"]
    assert rotated["apiKey"]["prefix"] == key["prefix"] and rotated["key"] != key["key"]

    old_in_grace = anonymous.get("/v1/usage", headers={"x-api-key": key["key"]})
    new = anonymous.get("/v1/usage", headers={"x-api-key": rotated["key"]})
    time.sleep(max(0.0, datetime.fromisoformat(rotated["apiKey"]["previousValidUntil"]).timestamp() - time.time()) + 1)
    old_after = anonymous.get("/v1/usage", headers={"x-api-key": key["key"]})
    new_after = anonymous.get("/v1/usage", headers={"x-api-key": rotated["key"]})

    assert (old_in_grace.status_code, new.status_code) == (200, 200)
    assert old_after.status_code == 401 and old_after.json()["error"]["reason"] == "rotated_key"
    assert new_after.status_code == 200


@host_only
def test_an_expired_key_is_401(anonymous, admin_token):
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    key = create(anonymous, admin_token, {"expiresAt": expires.isoformat()})

    before = anonymous.get("/v1/usage", headers={"x-api-key": key["key"]})
    time.sleep(max(0.0, expires.timestamp() - time.time()) + 1)
    after = anonymous.get("/v1/usage", headers={"x-api-key": key["key"]})

    assert before.status_code == 200, before.text
    assert after.status_code == 401 and after.json()["error"]["reason"] == "expired_key"


@host_only
def test_make_key_sets_a_policy_clears_it_and_rotates_a_key(base_url, anonymous, admin_token):
    def make_key(*args: str) -> list[str]:
        done = subprocess.run([sys.executable, "scripts/keys.py", "--url", base_url, *args], capture_output=True, text=True,
                              cwd=PROJECT_ROOT, env={**os.environ, "ADMIN_TOKEN": admin_token}, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()

    created = make_key("create", "--name", "cli", "--tier", "pro", "--models", "llama-3.1-8b", "--budget", "2", "--period", "week",
                       "--concurrency", "3", "--meta", "team=search")
    key_id = created[0].split()[1]
    listed = {k["id"]: k for k in admin(anonymous, admin_token, f"{{ apiKeys {{ {ADMIN_KEY_FIELDS} }} }}", {})["apiKeys"]}
    refused = chat(anonymous, created[-1], model="llama-3.3-70b")
    cleared = make_key("policy", key_id, "--clear")
    rotated = make_key("rotate", key_id, "--grace", "60")

    assert listed[key_id]["policy"] == {"allowedModels": ["@cf/meta/llama-3.1-8b-instruct-fast"], "budgetUsd": 2.0, "budgetPeriod": "WEEK",
                                        "softBudgetUsd": None, "maxConcurrent": 3, "expiresAt": None, "metadata": {"team": "search"}}
    assert refused.status_code == 403
    assert cleared == [f"{key_id}: its tier's limits"]
    assert chat(anonymous, rotated[-1], model="llama-3.3-70b").status_code == 200  # the new secret, and no policy any more
    assert chat(anonymous, created[-1]).status_code == 200  # the old one, in its grace
