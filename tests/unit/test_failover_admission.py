"""A request that fails over to another inference backend is counted exactly once: its admission
goes with every attempt under the request's id, and the key's counter counts an id once. The api's
client (api/inference_client.py) against two backends that admit as the inference service does
(inference/admission.py), one of them failing before or after it counted the request."""

import asyncio
from types import SimpleNamespace

from api.admission import Admission
from api.backends import BackendPool
from api.inference_client import InferenceClient
from inference import admission
from shared.contract import AdmissionRequest, Caller, EmbeddingRequest, EmbeddingResult
from shared.rpc import METHODS, encode_result
from tests.fakes import inference_env
from tests.unit.test_admission_counter import Namespace

CALLER = Caller(key_id="jwt:failover", tier="free")


class Backend:
    """An inference backend's RPC methods, admitting in the service's shared counter; `fails`
    says when it breaks: "before" admitting, "after" admitting, or never (None)."""

    def __init__(self, service_env, fails: str | None = None) -> None:
        self.env, self.fails = service_env, fails

    async def embed(self, request: str, request_id: str) -> str:
        req = EmbeddingRequest.model_validate_json(request)
        if self.fails == "before":
            raise RuntimeError("Network connection lost")
        window = await admission.admitted(self.env, None, req.admission)
        if self.fails == "after":
            raise RuntimeError("Network connection lost")
        return encode_result(METHODS["embed"], EmbeddingResult(model=req.model, vectors=[[0.0]], usage={}), window)

    async def admit(self, request: str, request_id: str) -> str:
        result = await admission.admit(self.env, None, AdmissionRequest.model_validate_json(request))
        if self.fails == "after":
            raise RuntimeError("Network connection lost")
        return encode_result(METHODS["admit"], result, None)


def counted(fails: str, method: str) -> int:
    service = inference_env(TIER_FREE_REQUESTS_PER_MINUTE="20")
    service.KEY_COUNTER = Namespace()
    api_env = SimpleNamespace(INFERENCE=Backend(service, fails), INFERENCE_2=Backend(service))
    client = InferenceClient(api_env, BackendPool(("INFERENCE", "INFERENCE_2")), "req-1", 3000)
    request = AdmissionRequest(request_id="req-1", kind="ai", caller=CALLER)
    if method == "embed":
        pending = Admission(request, holder="jwt:failover", proof="free", pending=True)
        embedding = EmbeddingRequest(request_id="req-1", caller=CALLER, model="@cf/baai/bge-base-en-v1.5", texts=["x"])
        asyncio.run(client.embed(embedding, pending))
        assert pending.window is not None and pending.window.remaining == 19  # the window came back with the answer
    else:
        asyncio.run(client.admit(request))
    assert client.backend == "INFERENCE_2" and client.failovers  # answered by the second backend
    return sum(service.KEY_COUNTER.objects["jwt:failover"].windows.values())


def test_a_work_call_whose_first_backend_failed_before_admitting_is_counted_by_the_next():
    assert counted("before", "embed") == 1


def test_a_work_call_whose_first_backend_counted_it_then_failed_is_not_counted_again():
    assert counted("after", "embed") == 1


def test_an_admission_whose_first_backend_counted_it_then_failed_is_not_counted_again():
    assert counted("after", "admit") == 1
