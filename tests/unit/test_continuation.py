from inference.continuation import Seam, attempts_after, can_continue, continuation_inputs
from shared.contract import Caller, ChatMessage, FunctionTool, GenerationRequest


def request(**extra):
    return GenerationRequest(request_id="r", caller=Caller(key_id="k"), kind="chat", model="@cf/meta/llama-3.1-8b-instruct-fast",
                             messages=[ChatMessage(role="user", content="hi")], max_tokens=5, stream_id="s", **extra)


def test_a_continuation_that_goes_on_from_the_prefix_passes_at_once():
    seam = Seam("You said:")

    assert seam.feed(" hi") == " hi"
    assert seam.feed(" there") == " there"


def test_a_continuation_that_restarts_the_answer_loses_the_restart():
    seam = Seam("You said:")

    pieces = [seam.feed(t) for t in ("You", " said:", " hi", " there")]

    assert "".join(pieces) == " hi there"
    assert pieces[:2] == ["", ""]  # held while they could still be a restart


def test_a_restart_that_stops_short_is_dropped():
    seam = Seam("You said: hi")

    assert seam.feed("You said") == ""
    assert seam.close() == ""


def test_only_streams_without_tools_and_not_opted_out_are_continued():
    tool = FunctionTool(name="f", parameters={"type": "object"})

    assert can_continue(request(), "You said:")
    assert not can_continue(request(continuation=False), "You said:")
    assert not can_continue(request(tools=[tool]), "You said:")
    assert not can_continue(request(), "")  # nothing sent: the failure is answered before the stream opens


def test_the_next_attempts_are_those_after_the_broken_one():
    attempts = [("workers-ai", "a"), ("workers-ai", "b"), ("external", "a")]

    assert attempts_after(attempts, ("workers-ai", "b")) == [("external", "a")]
    assert attempts_after(attempts, ("external", "a")) == []


def test_the_answer_so_far_is_the_assistants_own_message_and_spent_its_tokens():
    inputs = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100}

    continued = continuation_inputs(inputs, "You said: hi")  # 12 characters: about 3 tokens

    assert continued["messages"][-1] == {"role": "assistant", "content": "You said: hi"}
    assert continued["max_tokens"] == 97
    assert continuation_inputs(inputs, "x" * 1000)["max_tokens"] == 1  # the budget spent: the next model still closes the answer
    assert inputs == {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100}  # the first model's inputs as they were
