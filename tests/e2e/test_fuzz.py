"""A short run of the fuzzer (tests/e2e/fuzz.py) on every `make test`; `make fuzz` runs it long."""

import os

from tests.e2e.fuzz import fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))


def test_no_request_gets_an_undeliberate_5xx_or_an_error_without_its_shape(client, host):
    findings = fuzz(client, EXAMPLES, seed_value=20261123)

    assert findings.undeliberate == []
    assert findings.bad_shape == []
    assert sum(findings.statuses.values()) >= EXAMPLES
    assert client.get("/health").status_code == 200
    assert host is None or host.process.poll() is None  # the host never restarted
