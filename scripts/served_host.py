"""Where the scripts that carry the admin token (`make key`, `make replay`) may send it: the URL
the user names, or else the host `make dev` serves, as recorded in its state folder
(local/served-host.mjs) and checked before anything is sent. Never a default port: whatever
listens there would receive the token."""

import json
import os
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Where `make dev` keeps its local data (its --persist-to) and the record.
RECORD = ROOT / ".wrangler" / "state" / "served-host.json"
IDENTITY_PATH = "/__devhost/host"
START_HINT = "start `make dev` in another shell, or name a server with --url"


class NoServedHost(Exception):
    """No host to trust: the message says why and what to do."""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's: not the host this user started
        return False
    return True


def _answered_instance(url: str) -> str | None:
    """The instance the host at `url` says it is; the request carries no credentials."""
    try:
        response = httpx.get(f"{url}{IDENTITY_PATH}", timeout=5, follow_redirects=False)
        return response.json().get("instance") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None


def served_host_url(record_path: Path | None = None) -> str:
    """The recorded host's URL, once its process is alive and the host on its port proves it is
    that host; otherwise raises NoServedHost."""
    record_path = record_path or RECORD
    try:
        record = json.loads(record_path.read_text())
        url, pid, instance = str(record["url"]), int(record["pid"]), str(record["instance"])
    except FileNotFoundError:
        raise NoServedHost(f"No local host is running (none recorded in {record_path}): {START_HINT}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise NoServedHost(f"{record_path} is not a host record ({exc}): {START_HINT}") from None
    if not _process_alive(pid):
        raise NoServedHost(f"The host recorded in {record_path} (process {pid}) has stopped: {START_HINT}")
    if _answered_instance(url) != instance:
        raise NoServedHost(f"What answers at {url} is not the host `make dev` started (it did not prove its "
                           f"identity), so the admin token is not sent there: {START_HINT}")
    return url


def target_url(explicit: str | None, record_path: Path | None = None) -> str:
    """The URL to send the admin token to: the one the user named, else the recorded host."""
    if explicit:
        return explicit.rstrip("/")
    return served_host_url(record_path)
