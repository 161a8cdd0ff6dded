"""Tool calling through LangChain's ChatOpenAI (bind_tools), pointed at /v1: a client this
project did not write, which sends and reads tool calls its own way."""

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from tests.e2e.conftest import host_only

pytestmark = host_only  # the Workers AI stand-in's deterministic calls


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"22C and sunny in {city}"


@pytest.fixture
def chat(base_url, api_key):
    return ChatOpenAI(base_url=f"{base_url}/v1", api_key=api_key, model="llama-4-scout", max_retries=0)


@pytest.mark.parametrize("stream", [False, True])
def test_langchain_calls_the_bound_tool_and_gets_an_answer_from_its_result(chat, ai, stream):
    model = chat.bind_tools([get_weather])
    ask = [HumanMessage("What is the weather in Paris?")]

    if stream:  # the chunks joined, as LangChain's own streaming does
        chunks = list(model.stream(ask))
        called = sum(chunks[1:], start=chunks[0])
    else:
        called = model.invoke(ask)
    [call] = called.tool_calls
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Paris"})

    answer = model.invoke([*ask, called, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])])

    assert answer.content.startswith("The tools answered: 22C and sunny in Paris") and not answer.tool_calls
    assert [c["options"]["tools"] for c in ai.calls()] == [1, 1]
