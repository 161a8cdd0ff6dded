"""`make replay`: fires the cron trigger on a local host, which replays the event batches not yet
indexed. The host is the one `make dev` serves (scripts/served_host.py), or --url's.

    make replay
    make replay ARGS="--url http://127.0.0.1:8790"
"""

import argparse
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.served_host import NoServedHost, target_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a local host's URL (default: the host `make dev` serves)")
    args = parser.parse_args()
    try:
        url = target_url(args.url)
    except NoServedHost as exc:
        sys.exit(str(exc))
    response = httpx.post(f"{url}/__devhost/scheduled", json={}, timeout=120)
    print(response.text)
    sys.exit(0 if response.status_code == 200 else 1)


if __name__ == "__main__":
    main()
