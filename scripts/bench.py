"""Benchmarks against a local host started for the run (its own state folder, free port).

    make bench                # or: .venv/bin/python scripts/bench.py --requests 20

Prints a Markdown table; the README's benchmark table is copied from it.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.localhost import PROJECT_ROOT, LocalHost  # noqa: E402

CONFIGS = [PROJECT_ROOT / "wrangler.toml", PROJECT_ROOT / "inference_worker" / "wrangler.toml"]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_requests(client: httpx.Client, path: str, count: int) -> list[float]:
    client.get(path).raise_for_status()  # warm-up: first request pays lazy imports
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per measurement")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as state:
        started = time.perf_counter()
        with LocalHost(CONFIGS, Path(state)) as host:
            rows.append(("host start-up to 'Ready' (wall)", f"{(time.perf_counter() - started) * 1000:.0f} ms"))
            with httpx.Client(base_url=host.url, timeout=30) as client:
                status = client.get("/__devhost/status").json()
                for name, t in status["workers"].items():
                    rows.append((f"{name}: Pyodide boot / packages / main import",
                                 f"{t['pyodideMs']:.0f} / {t['packagesMs']:.0f} / {t['importMs']:.0f} ms"))
                health = timed_requests(client, "/health", args.requests)
                rows.append((f"GET /health, median (p95) of {args.requests}",
                             f"{statistics.median(health):.1f} ms ({percentile(health, 0.95):.1f} ms)"))

    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
