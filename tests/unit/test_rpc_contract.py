"""The RPC surface is declared once (shared/rpc.py) and both sides follow it: the service's
entrypoint (inference_worker/entry.py, read as source: it imports the runtime) has one method per
declared method, taking the declared arguments in order and the request id last, and serving
that method; the api's client has one method per declared method, taking the same arguments (and
the request's admission when the call carries one). A method added, dropped, renamed or with its
arguments reordered on one side only fails here, not in production."""

import ast
import inspect
from pathlib import Path

import pytest

from api.inference_client import InferenceClient
from shared.contract import RateWindow, ServiceFailure
from shared.documents import DocumentInfo
from shared.errors import ErrorCode
from shared.rpc import METHODS, decode_answer, encode_failure, encode_result

ENTRY = Path(__file__).resolve().parents[2] / "inference_worker" / "entry.py"


def _service_methods() -> dict[str, ast.AsyncFunctionDef]:
    tree = ast.parse(ENTRY.read_text())
    service = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "InferenceService")
    return {node.name: node for node in service.body if isinstance(node, ast.AsyncFunctionDef)}


def _served_name(method: ast.AsyncFunctionDef) -> str | None:
    """The declared method a service method serves: the name it passes to `_serve`, after itself."""
    for node in ast.walk(method):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_serve":
            return node.args[1].value
    return None


def _client_methods() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(InferenceClient).items()
            if inspect.iscoroutinefunction(member) and not name.startswith("_")}


def test_the_service_answers_every_declared_method_and_nothing_else():
    assert sorted(_service_methods()) == sorted(METHODS)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_service_method_takes_the_declared_arguments_in_order_then_the_request_id(name):
    method = _service_methods()[name]
    parameters = [argument.arg for argument in method.args.args]
    assert parameters == ["self", *(argument for argument, _ in METHODS[name].arguments), "request_id"]
    assert _served_name(method) == name


def test_the_client_asks_every_declared_method_and_nothing_else():
    assert sorted(_client_methods()) == sorted(METHODS)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_client_method_takes_the_declared_arguments_in_order_and_a_work_calls_admission(name):
    declared = METHODS[name]
    parameters = list(_client_methods()[name].parameters)
    assert parameters == ["self", *(argument for argument, _ in declared.arguments), *(["admission"] if declared.work else [])]


def test_a_result_crosses_with_the_callers_window_and_a_failure_as_itself():
    method = METHODS["store_document"]
    info = DocumentInfo(id="doc_1", title="t", bytes=1, passages=1, embedded=1, status="ready", created_at="2026-01-01")
    window = RateWindow(limit=20, remaining=19, reset_seconds=42)

    answer = decode_answer(method, encode_result(method, info, window))
    assert (answer.result, answer.window, answer.failure) == (info, window, None)

    failure = ServiceFailure(code=ErrorCode.RATE_LIMITED, message="More than 20 requests a minute", retry_after=42, reason="rate_limit")
    answer = decode_answer(method, encode_failure(failure, window))
    assert (answer.result, answer.window, answer.failure) == (None, window, failure)
