"""A short run of the fuzzer (tests/e2e/fuzz.py) on every `make test`; `make fuzz` runs it long."""

import os

from tests.e2e.conftest import E2E_BASE_URL, TEST_JWT_SECRET
from tests.e2e.fuzz import fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))


def test_no_request_gets_an_undeliberate_5xx_an_error_without_its_shape_or_a_restart(client, host):
    findings = fuzz(client, EXAMPLES, seed_value=20261123, jwt_secret=None if E2E_BASE_URL else TEST_JWT_SECRET)

    assert findings.failures == {name: [] for name in findings.failures}
    assert sum(findings.statuses.values()) >= EXAMPLES
    assert client.get("/health").status_code == 200
    assert host is None or (host.runtime_restarts(), host.crash_sites()) == (0, [])
