"""Runs tests/e2e/ai_sdk/clients.mjs: the AI SDK's own readers, in Node, against a server."""

import json
import subprocess

from scripts.localhost import NODE, PROJECT_ROOT

# The oldest AI SDK we support (its chunk schemas are strict) and the newest.
SDK_VERSIONS = ["ai-v5", "ai"]
CLIENTS = PROJECT_ROOT / "tests" / "e2e" / "ai_sdk" / "clients.mjs"


def run_client(sdk: str, base_url: str, scenario: str, api_key: str | None = None, **options) -> dict:
    if api_key:
        options["headers"] = {"authorization": f"Bearer {api_key}"}
    result = subprocess.run(
        [str(NODE), str(CLIENTS), sdk, base_url, scenario, json.dumps(options)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_tool_agent(provider: str, base_url: str, api_key: str, scenario: str, **options) -> dict:
    """The AI SDK's generateText or streamText running a tool through `provider` pointed at /v1
    (tests/e2e/ai_sdk/tool_agent.mjs): what the run did."""
    script = PROJECT_ROOT / "tests" / "e2e" / "ai_sdk" / "tool_agent.mjs"
    result = subprocess.run([str(NODE), str(script), provider, base_url, api_key, scenario, json.dumps(options)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def message_text(message: dict) -> str:
    return "".join(part.get("text", "") for part in message["parts"] if part["type"] == "text")


def ui_text(stream: str) -> str:
    """The text of a UI message stream as read raw (its text-delta chunks joined)."""
    deltas = [json.loads(e[len("data: "):]) for e in stream.split("\n\n") if '"type":"text-delta"' in e]
    return "".join(d["delta"] for d in deltas)
