"""A line per suite at the end of a run, so `make test` shows that unit (CPython), deploy
(wrangler dry-run bundles) and end-to-end (local host, Pyodide) tests each ran."""

from collections import Counter

SUITES = ("unit", "deploy", "e2e")


def pytest_terminal_summary(terminalreporter):
    counts: dict[str, Counter] = {suite: Counter() for suite in SUITES}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            parts = report.nodeid.split("/")
            if len(parts) > 1 and parts[0] == "tests" and parts[1] in counts:
                counts[parts[1]][outcome] += 1
    terminalreporter.section("tests per suite")
    for suite, counted in counts.items():
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counted.items() if n) or "none ran"
        terminalreporter.write_line(f"{suite:7} {summary}")
