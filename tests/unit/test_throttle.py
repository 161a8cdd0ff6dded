from shared.bounded import entry_size
from shared.throttle import MAX_TRACKED, MAX_TRACKED_BYTES, FailedAttempts

NOW = 1_800_000_020.0  # 20 s into a window


def test_a_client_may_fail_its_allowance_then_waits_for_the_next_window():
    attempts = FailedAttempts(allowance=3)
    for _ in range(3):
        assert attempts.retry_after("1.2.3.4", NOW) is None
        attempts.record_failure("1.2.3.4", NOW)

    assert attempts.retry_after("1.2.3.4", NOW) == 40
    assert attempts.retry_after("5.6.7.8", NOW) is None  # another client is not held back
    assert attempts.retry_after("1.2.3.4", NOW + 40) is None  # a new window


def test_failures_of_an_old_window_do_not_count():
    attempts = FailedAttempts(allowance=2)
    attempts.record_failure("a", NOW - 60)
    attempts.record_failure("a", NOW - 60)
    attempts.record_failure("a", NOW)

    assert attempts.retry_after("a", NOW) is None


def test_memory_stays_bounded_under_many_addresses():
    attempts = FailedAttempts()
    for i in range(MAX_TRACKED + 500):
        attempts.record_failure(f"10.0.{i // 256}.{i % 256}", NOW)

    assert len(attempts.windows) <= MAX_TRACKED


def test_memory_stays_bounded_in_bytes_under_long_addresses():
    attempts = FailedAttempts()
    for i in range(5_000):
        attempts.record_failure(f"{i}-" + "f" * 1_000, NOW)  # 5,000 addresses of 1 KB: 5 MB unbounded

    assert sum(entry_size(address, window) for address, window in attempts.windows.items()) <= MAX_TRACKED_BYTES
    assert attempts.retry_after(f"4999-{'f' * 1_000}", NOW) is None  # the latest is still counted
    assert attempts.windows.get(f"4999-{'f' * 1_000}") == (NOW - 20, 1)
