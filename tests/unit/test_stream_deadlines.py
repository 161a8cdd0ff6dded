import math

from inference.ai_client import ModelStalled, ModelTimedOut
from inference.deadlines import StreamDeadlines


def test_a_model_silent_for_the_idle_timeout_has_stalled():
    deadlines = StreamDeadlines.starting(now=100.0, idle_timeout_s=30, total_timeout_s=300)

    assert deadlines.passed(last_chunk_at=100.0, now=129.9) is None
    stalled = deadlines.passed(last_chunk_at=100.0, now=130.0)
    assert isinstance(stalled, ModelStalled) and str(stalled) == "the model sent nothing for 30 s"


def test_a_model_that_keeps_sending_is_still_cut_off_at_the_whole_answers_deadline():
    deadlines = StreamDeadlines.starting(now=100.0, idle_timeout_s=30, total_timeout_s=300)

    assert deadlines.passed(last_chunk_at=399.0, now=399.9) is None
    timed_out = deadlines.passed(last_chunk_at=399.9, now=400.0)
    assert isinstance(timed_out, ModelTimedOut) and str(timed_out) == "the model did not finish within 300 s"


def test_the_timer_wakes_for_whichever_deadline_comes_first():
    deadlines = StreamDeadlines.starting(now=100.0, idle_timeout_s=30, total_timeout_s=300)

    assert deadlines.next_check(last_chunk_at=100.0) == 130.0  # silence first
    assert deadlines.next_check(last_chunk_at=390.0) == 400.0  # then the whole answer's end


def test_a_timeout_of_zero_is_no_deadline():
    no_idle = StreamDeadlines.starting(now=0.0, idle_timeout_s=0, total_timeout_s=10)
    no_total = StreamDeadlines.starting(now=0.0, idle_timeout_s=5, total_timeout_s=0)
    neither = StreamDeadlines.starting(now=0.0, idle_timeout_s=0, total_timeout_s=0)

    assert no_idle.passed(last_chunk_at=0.0, now=9.0) is None and no_idle.next_check(0.0) == 10.0
    assert no_total.passed(last_chunk_at=1e6, now=1e6 + 1) is None and no_total.next_check(1e6) == 1e6 + 5
    assert neither.next_check(0.0) == math.inf and neither.passed(0.0, 1e9) is None
