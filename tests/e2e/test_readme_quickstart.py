"""The README's quick start, run as a newcomer runs it: its ```sh quickstart blocks, in order, in
one bash shell (so `KEY` and `TOKEN` carry over), against the test host. `BASE` and
INFERENCE_UI_URL name that host for the curls and `make key`, and ADMIN_TOKEN and JWT_SECRET are
its secrets, as `.dev.vars` holds `make dev`'s. Each block must exit 0 (curl's --fail-with-body
turns an error status into a failure) and print what a user expects to see."""

import json
import os
import re
import subprocess
from collections.abc import Callable

from scripts.localhost import PROJECT_ROOT
from tests.e2e.conftest import TEST_JWT_SECRET, host_only

QUICKSTART_BLOCK = re.compile(r"^```sh quickstart\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# Printed on a line of its own before each block (curl's JSON ends with no newline), so each
# block's output can be told apart.
MARKER = "@@quickstart-block@@"
BEFORE_EACH_BLOCK = f"printf '\\n%s\\n' {MARKER}\n"


def quickstart_blocks() -> list[str]:
    return QUICKSTART_BLOCK.findall((PROJECT_ROOT / "README.md").read_text())


def server_sent_events(output: str) -> list[str]:
    return [line.removeprefix("data: ") for line in output.splitlines() if line.startswith("data: ")]


def printed_a_key(output: str) -> None:
    assert re.fullmatch(r"iui_[a-z0-9]+_[\w-]+", output.strip().splitlines()[-1]), output


def healthy(output: str) -> None:
    body = json.loads(output)
    assert body["status"] == "ok"
    assert all(binding["ok"] for binding in body["inference"]["bindings"].values()), body


def chat_completion(output: str) -> None:
    body = json.loads(output)
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"]


def ui_message_stream(output: str) -> None:
    events = server_sent_events(output)
    assert events[-1] == "[DONE]", output
    chunks = [json.loads(event) for event in events[:-1]]
    assert "".join(chunk.get("delta", "") for chunk in chunks if chunk["type"] == "text-delta")
    assert chunks[-1]["type"] == "finish"


def events_accepted(output: str) -> None:
    body = json.loads(output)
    assert (body["accepted"], body["rejected"]) == (1, []), body
    assert body["status"] == f"/events/batches/{body['batchId']}"


def graphql_usage(output: str) -> None:
    body = json.loads(output)
    assert "errors" not in body, body
    assert body["data"]["usage"]["requests"] >= 1  # the chats above are counted


def jwt_user_usage(output: str) -> None:
    body = json.loads(output)
    assert (body["key_id"], body["tier"]) == ("jwt:user-1", "pro")


# What each block's output must show, by a command the block runs.
EXPECTED: dict[str, Callable[[str], None]] = {
    "make -s key": printed_a_key,
    "/health": healthy,
    "/v1/chat/completions": chat_completion,
    "/stream/chat": ui_message_stream,
    "/events": events_accepted,
    "/graphql": graphql_usage,
    "make -s jwt": jwt_user_usage,
}


def test_the_readme_names_what_each_quickstart_block_must_show():
    blocks = quickstart_blocks()

    assert len(blocks) >= 2
    for block in blocks:
        assert len([command for command in EXPECTED if command in block]) == 1, block


@host_only
def test_the_readme_quickstart_runs_as_written(base_url, admin_token):
    blocks = quickstart_blocks()
    script = "set -eo pipefail\n" + "".join(BEFORE_EACH_BLOCK + block for block in blocks)
    environment = {**os.environ, "BASE": base_url, "INFERENCE_UI_URL": base_url,
                   "ADMIN_TOKEN": admin_token, "JWT_SECRET": TEST_JWT_SECRET}

    # The timeout only keeps a hung command from hanging the suite.
    finished = subprocess.run(["bash", "-c", script], cwd=PROJECT_ROOT, env=environment,
                              capture_output=True, text=True, timeout=300)

    outputs = finished.stdout.split(f"\n{MARKER}\n")[1:]
    assert finished.returncode == 0, (f"block {len(outputs)} of {len(blocks)} failed:\n{blocks[len(outputs) - 1]}\n"
                                      f"its output:\n{outputs[-1] if outputs else ''}\nstderr:\n{finished.stderr}")
    assert len(outputs) == len(blocks)
    for block, output in zip(blocks, outputs, strict=True):
        check = next(check for command, check in EXPECTED.items() if command in block)
        try:
            check(output)
        except (AssertionError, ValueError, KeyError, IndexError) as failure:
            raise AssertionError(f"the block\n{block}\nprinted\n{output}") from failure
