"""A local host records where it serves, so that `make key` and `make replay` find it on any port
(scripts/served_host.py), and proves its identity there without being sent credentials."""

import stat

from scripts.served_host import target_url
from tests.e2e.conftest import host_only


@host_only
def test_the_host_records_its_port_and_proves_it_is_the_host_recorded(host):
    record = host.state_dir / "served-host.json"

    assert target_url(None, record) == host.url
    assert stat.S_IMODE(record.stat().st_mode) == 0o600  # the instance proves identity: the owner's only
