"""The playground page (playground/, served at / as static assets) in a real browser: Debian's
Chromium driven by playwright-core (tests/browser/playground.mjs), as a person would use it. A
screenshot of each scenario is kept in .artifacts/playground/."""

import json
import os
import re
import subprocess
import sys

import pytest

from scripts.localhost import NODE, PROJECT_ROOT
from tests.e2e.test_ai_sdk import STAND_IN_REPLY

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
from bootstrap import find_chromium  # noqa: E402

SCRIPT = PROJECT_ROOT / "tests" / "browser" / "playground.mjs"
ARTIFACTS = PROJECT_ROOT / ".artifacts" / "playground"
CHROMIUM = find_chromium()
# On CI the browser is installed by setup, so a missing one is a failure there, not a skip.
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="no Chromium: make setup installs Debian's (or set CHROMIUM)")


def browse(base_url: str, scenario: str, expected_errors: str | None = None, **options) -> dict:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    options = {"chromium": CHROMIUM, "screenshot": str(ARTIFACTS / f"{scenario}.png"), **options}
    result = subprocess.run([str(NODE), str(SCRIPT), base_url, scenario, json.dumps(options)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert "failed" not in seen, f"{seen['failed']} (screenshot: {ARTIFACTS / scenario}-failed.png)"
    # The browser logs a refused request as an error: expected where the test is one.
    assert [e for e in seen["consoleErrors"] if not (expected_errors and expected_errors in e)] == []
    assert seen["elsewhere"] == []  # nothing from another origin: the page works offline
    return seen


def test_a_typed_message_gets_a_streamed_answer_with_its_metadata(base_url, new_key):
    seen = browse(base_url, "chat", key=new_key("pro", "playground-chat")["key"], text="Hello from the browser")

    assert seen["answer"] == STAND_IN_REPLY.format("Hello from the browser")
    assert seen["updates"] > 5  # the answer grew on screen as tokens arrived, not at once
    assert seen["meta"].startswith("@cf/meta/llama-3.1-8b-instruct-fast · workers-ai · generated · ")
    assert "completion tokens · stop" in seen["meta"]
    assert seen["tokens"] > 0 and seen["cost"].startswith("$0.0000")  # the chat's usage, charted
    assert requests_today(seen["usageAfter"]) == requests_today(seen["usageBefore"]) + 1  # and counted on the key's line
    assert seen["cutLabels"] == []  # every axis as wide as its labels (small costs included)
    assert seen["stored"] and seen["local"] == 0  # the key in session storage, nothing in local storage
    assert (ARTIFACTS / "chat.png").stat().st_size > 10_000


def test_a_tool_the_model_calls_runs_in_the_browser_and_the_answer_uses_its_output(base_url, new_key):
    seen = browse(base_url, "tool", key=new_key("pro", "playground-tool")["key"], model="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
                  text="What time is it here?")

    [call] = seen["tools"]  # shown in the answer: the call, then what the page's tool gave back
    assert call.startswith('local_time({}) → {"local":') and '"timeZone":' in call
    output = call.split(" → ", 1)[1]
    assert seen["alert"] is None and seen["meta"].endswith(" · stop")
    assert output in seen["said"]  # the answer's text: the stand-in quotes the result it was given


def requests_today(key_state: str) -> int:
    return int(re.search(r"(\d+) requests?", key_state).group(1))


def test_sent_events_show_in_the_chart(base_url, new_key):
    seen = browse(base_url, "events", key=new_key("pro", "playground-events")["key"])

    assert seen["atOnce"] == seen["before"] + 10  # as soon as they are sent, before they are indexed
    assert seen["after"] == seen["afterRefresh"] == seen["before"] + 10
    assert "Sent 10 events" in seen["state"] and "Updated" in seen["state"]  # the note outlives the refresh
    assert seen["caption"] == f"{seen['after']:g} events"
    assert seen["canvases"] == 1  # drawn by uPlot


def test_a_wrong_key_is_refused_with_a_clear_message(base_url):
    seen = browse(base_url, "wrong-key", key="iui_notarealkey_0000000000000000000000", expected_errors="status of 401")

    assert seen["alert"].startswith("That key was refused: ")
    assert "(401 unauthorized)" in seen["alert"]
    assert seen["sendDisabled"] is True and seen["stored"] is None


def test_everything_works_from_the_keyboard_alone(base_url, new_key):
    seen = browse(base_url, "keyboard", key=new_key("pro", "playground-keyboard")["key"])

    assert seen["path"] == ["key", "prompt", "send-events"]  # the focus goes where the next step is
    assert seen["chat"]["answer"] == STAND_IN_REPLY.format("Typed without a mouse")
    assert seen["eventsAfter"] == seen["eventsBefore"] + 10
    assert seen["outline"] != "none"  # the focused control is visibly marked


def test_graphiql_opens_from_the_playground_and_runs_a_query_with_its_key(base_url, new_key):
    seen = browse(base_url, "graphiql", key=new_key("pro", "playground-graphiql")["key"])

    assert seen["address"] == "/graphiql"
    assert seen["response"]["data"]["usage"]["tier"] == "PRO"  # the playground's key, sent by GraphiQL
    assert {"id": "@cf/meta/llama-3.1-8b-instruct-fast"} in seen["response"]["data"]["models"]
    assert seen["headersShown"] is False  # the key is sent, never shown
    assert "/graphiql-bundle/graphql.worker.js" in seen["workers"]  # the editor's language service runs
    assert (ARTIFACTS / "graphiql.png").stat().st_size > 10_000


def test_every_buttons_label_is_legible_enabled_or_disabled(base_url):
    seen = browse(base_url, "buttons")

    assert {button["id"] for button in seen["buttons"]} >= {"forget-key", "send", "stop", "send-events"}
    for button in seen["buttons"]:
        assert button["label"], button
        assert button["contrast"] >= 4.5, button  # WCAG AA for text


def test_the_keys_policy_and_its_budget_left_show_under_the_keys_line(base_url, anonymous, admin_token):
    created = anonymous.post("/graphql", headers={"authorization": f"Bearer {admin_token}"}, json={
        "query": "mutation($p: KeyPolicyInput) { createApiKey(name: \"playground-policy\", tier: PRO, policy: $p) { key } }",
        "variables": {"p": {"budgetUsd": 5, "budgetPeriod": "WEEK", "softBudgetUsd": 4, "maxConcurrent": 3,
                            "allowedModels": ["llama-3.1-8b"]}}}).json()["data"]["createApiKey"]

    seen = browse(base_url, "policy", key=created["key"])

    assert seen["policy"] == ("Key policy: budget $5.000000 left of $5 this week (alert at $4) · "
                              "models @cf/meta/llama-3.1-8b-instruct-fast · 3 at once.")
