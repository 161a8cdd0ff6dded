"""The api's admission (api/admission.py) against an inference service that admits as the real
one does (inference/admission.py, its counter in D1): the caller's limits are the ones the
service parsed from its TIER_* vars, whether the request was admitted by its own call or, for a
caller this isolate knows, left to the handler's work call; that call brings the caller's window
back for the response's headers, and the request is counted once."""

import asyncio
from types import SimpleNamespace

import pytest

from api import admission
from api.backends import BackendPool
from api.inference_client import InferenceClient
from api.router import Route
from api.settings import Settings
from inference import access
from shared.contract import KeySpec
from shared.errors import ApiError
from shared.models import DEFAULT_TEXT_MODEL
from tests.fakes import inference_env
from tests.unit.test_admission_counter import Namespace
from tests.unit.test_failover_admission import Backend

EMBEDDINGS = Route(method="POST", path="/v1/embeddings", handler="api.openai:post_embeddings", kind="ai")
SMALL_EMBEDDING_MODEL = "@cf/baai/bge-small-en-v1.5"


@pytest.fixture(autouse=True)
def fresh_isolate(monkeypatch):
    monkeypatch.setattr(admission, "isolate", admission.IsolateAdmissions())


def _service() -> SimpleNamespace:
    # The overrides are the inference worker's only: the api has no TIER_* vars of its own.
    env = inference_env(TIER_FREE_ALLOWED_MODELS=SMALL_EMBEDDING_MODEL, TIER_FREE_REQUESTS_PER_MINUTE="7")
    env.KEY_COUNTER = Namespace()
    created = asyncio.run(access.create_key(env, KeySpec(name="tester", tier="free")))
    return SimpleNamespace(env=env, key=created.key, key_id=created.id, backend=Backend(env))


def _request(service, number: int) -> SimpleNamespace:
    """What the pipeline hands api/admission.py: a request presenting the service's key."""
    api_env = SimpleNamespace(INFERENCE=service.backend)
    request_id = f"r{number}"
    headers = {"authorization": f"Bearer {service.key}", "cf-connecting-ip": "203.0.113.9"}
    return SimpleNamespace(headers=headers, settings=Settings(), request_id=request_id, env=api_env, caller=None,
                           credential=None, is_admin=False, admission=None,
                           inference=InferenceClient(api_env, BackendPool(("INFERENCE",)), request_id, 3000))


def _counted(service) -> int:
    return sum(service.env.KEY_COUNTER.objects[service.key_id].windows.values())


def test_a_callers_limits_are_the_ones_the_inference_service_parsed_from_its_tier_vars():
    service = _service()
    call = _request(service, 1)
    asyncio.run(admission.admit(call, EMBEDDINGS))

    assert call.admission.limits.requests_per_minute == 7
    with pytest.raises(ApiError) as refused:
        admission.check_model_allowed(call, DEFAULT_TEXT_MODEL)  # allowed by the free tier's defaults, not here
    assert (refused.value.status, refused.value.details["reason"]) == (403, "model_not_allowed")
    admission.check_model_allowed(call, SMALL_EMBEDDING_MODEL)


def test_a_known_callers_admission_goes_with_its_work_call_which_brings_back_its_window():
    service = _service()
    asyncio.run(admission.admit(_request(service, 1), EMBEDDINGS))  # the first request: its own admission

    call = _request(service, 2)
    asyncio.run(admission.admit(call, EMBEDDINGS))
    assert call.admission.pending and call.admission.window is None  # no call made yet
    with pytest.raises(ApiError):
        admission.check_model_allowed(call, DEFAULT_TEXT_MODEL)  # the limits this isolate kept from the first
    asyncio.run(admission.settle(call))  # the handler refused it: admitted now, once

    assert call.admission.window.limit == 7 and call.admission.window.remaining == 5
    assert _counted(service) == 2
    asyncio.run(admission.settle(call))
    assert _counted(service) == 2


def test_a_key_revoked_through_this_isolate_is_admitted_by_its_own_call_again():
    service = _service()
    first = _request(service, 1)
    asyncio.run(admission.admit(first, EMBEDDINGS))
    admission.isolate.forget_key(first.caller.key_id)

    call = _request(service, 2)
    asyncio.run(admission.admit(call, EMBEDDINGS))
    assert not call.admission.pending and _counted(service) == 2
