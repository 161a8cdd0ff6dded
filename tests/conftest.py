"""A line per suite at the end of a run, so `make test` shows that unit (CPython), in-process
(both workers' pipeline on CPython), deploy (wrangler dry-run bundles) and end-to-end tests each ran, the end-to-end ones per runtime
(workerd, devhost's Pyodide host, or a remote server)."""

from collections import Counter

import pytest

SUITES = ("unit", "inprocess", "deploy", "e2e")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    callspec = getattr(item, "callspec", None)
    if callspec and "runtime" in callspec.params:
        outcome.get_result().user_properties.append(("runtime", callspec.params["runtime"]))


def suite_of(report) -> str | None:
    parts = report.nodeid.split("/")
    if len(parts) < 2 or parts[0] != "tests" or parts[1] not in SUITES:
        return None
    runtime = dict(getattr(report, "user_properties", ())).get("runtime")
    return f"{parts[1]} on {runtime}" if runtime else parts[1]


def pytest_terminal_summary(terminalreporter):
    counts: dict[str, Counter] = {suite: Counter() for suite in SUITES}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if (suite := suite_of(report)) is not None:
                counts.setdefault(suite, Counter())[outcome] += 1
    terminalreporter.section("tests per suite")
    for suite, counted in counts.items():
        if suite == "e2e" and not counted and any(name.startswith("e2e ") for name in counts):
            continue
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counted.items() if n) or "none ran"
        terminalreporter.write_line(f"{suite:18} {summary}")
