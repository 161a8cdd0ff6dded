"""Which server `make key` and `make replay` send the admin token to: the --url given, or the host
`make dev` recorded once it proves it is that host; never a default port."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts import keys, replay, served_host
from scripts.served_host import NoServedHost, target_url

INSTANCE = "0b9a3c54-host-instance"


class Listener:
    """A server on a free local port answering the identity route with `instance` and the admin
    GraphQL with no keys; it keeps the Authorization header of every request it got."""

    def __init__(self, instance: str) -> None:
        authorizations = self.authorizations = []

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, body: dict) -> None:
                authorizations.append(self.headers.get("authorization"))
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._reply({"instance": instance})

            def do_POST(self):
                self.rfile.read(int(self.headers["content-length"]))
                self._reply({"data": {"apiKeys": []}})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    running = Listener(INSTANCE)
    yield running
    running.close()


@pytest.fixture
def record(tmp_path, monkeypatch):
    path = tmp_path / "served-host.json"
    monkeypatch.setattr(served_host, "RECORD", path)

    def write(url: str, pid: int = os.getpid(), instance: str = INSTANCE) -> None:
        path.write_text(json.dumps({"url": url, "pid": pid, "instance": instance}))

    return write


def reaped_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_the_url_the_user_names_is_used_as_given(record):
    assert target_url("https://api.example.dev/") == "https://api.example.dev"


def test_without_a_recorded_host_it_refuses_and_says_what_to_do(record):
    with pytest.raises(NoServedHost, match=r"No local host is running.*make dev.*--url"):
        target_url(None)


def test_the_recorded_host_is_used_once_it_answers_with_its_instance(record, listener):
    record(listener.url)

    assert target_url(None) == listener.url
    assert listener.authorizations == [None]  # the identity check sends no credentials


def test_a_record_whose_process_has_stopped_is_refused(record, listener):
    record(listener.url, pid=reaped_pid())

    with pytest.raises(NoServedHost, match="has stopped"):
        target_url(None)
    assert listener.authorizations == []


def test_whatever_else_listens_on_the_recorded_port_is_refused(record, listener):
    record(listener.url, instance="the-instance-make-dev-wrote")

    with pytest.raises(NoServedHost, match="not the host `make dev` started"):
        target_url(None)


def test_a_recorded_port_where_nothing_listens_is_refused(record, listener):
    listener.close()
    record(listener.url)

    with pytest.raises(NoServedHost, match="not the host"):
        target_url(None)


def test_a_record_that_is_not_one_is_refused(record):
    served_host.RECORD.write_text("{not json")

    with pytest.raises(NoServedHost, match="is not a host record"):
        target_url(None)


def test_make_key_sends_the_admin_token_to_the_recorded_host(record, listener, monkeypatch, capsys):
    record(listener.url)
    monkeypatch.setenv("ADMIN_TOKEN", "local-admin-token")
    monkeypatch.delenv("INFERENCE_UI_URL", raising=False)
    monkeypatch.setattr(sys, "argv", ["keys.py", "list"])

    keys.main()

    assert listener.authorizations == [None, "Bearer local-admin-token"]


def test_make_key_sends_nothing_to_a_listener_that_is_not_the_recorded_host(record, listener, monkeypatch):
    record(listener.url, instance="the-instance-make-dev-wrote")
    monkeypatch.setenv("ADMIN_TOKEN", "local-admin-token")
    monkeypatch.delenv("INFERENCE_UI_URL", raising=False)
    monkeypatch.setattr(sys, "argv", ["keys.py", "list"])

    with pytest.raises(SystemExit, match="not the host `make dev` started"):
        keys.main()
    assert "Bearer local-admin-token" not in listener.authorizations


def test_make_replay_fires_the_cron_on_the_recorded_host(record, listener, monkeypatch):
    record(listener.url)
    monkeypatch.setattr(sys, "argv", ["replay.py"])

    with pytest.raises(SystemExit) as exited:
        replay.main()
    assert exited.value.code == 0
    assert len(listener.authorizations) == 2  # the identity check, then the cron trigger


def test_make_replay_without_a_recorded_host_refuses(record, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["replay.py"])

    with pytest.raises(SystemExit, match="No local host is running"):
        replay.main()
