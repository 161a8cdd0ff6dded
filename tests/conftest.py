"""A line per suite at the end of a run, so `make test` shows that unit (CPython), in-process
(both workers' pipeline on CPython), deploy (wrangler dry-run bundles) and end-to-end (workerd,
or a remote server) tests each ran."""

from collections import Counter

SUITES = ("unit", "inprocess", "deploy", "e2e")


def suite_of(report) -> str | None:
    parts = report.nodeid.split("/")
    if len(parts) < 2 or parts[0] != "tests" or parts[1] not in SUITES:
        return None
    return parts[1]


def pytest_terminal_summary(terminalreporter):
    counts: dict[str, Counter] = {suite: Counter() for suite in SUITES}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if (suite := suite_of(report)) is not None:
                counts.setdefault(suite, Counter())[outcome] += 1
    terminalreporter.section("tests per suite")
    for suite, counted in counts.items():
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counted.items() if n) or "none ran"
        terminalreporter.write_line(f"{suite:18} {summary}")
