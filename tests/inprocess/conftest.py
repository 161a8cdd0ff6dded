"""The in-process suite's fixtures: one host for the session (tests/inprocess/host.py), as the
end-to-end suite has one local host, and the same fixtures by the same names (`anonymous`,
`client`, `new_key`, `ai`, ...) so a test reads the same in either suite; `clock`, the host's
FakeClock, which a test advances instead of sleeping."""

import httpx
import pytest

from tests.e2e.conftest import HOST_VARIABLES, api_key, new_key, providers_of_test_host  # noqa: F401, F811 (fixtures, used by name)
from tests.inprocess.ai import AiRecorder
from tests.inprocess.host import ORIGIN, FakeClock, InProcessHost

# The external provider is not reachable in-process (the runtime's fetch is absent): the tests
# routed to it stay end to end (tests/e2e/test_providers.py).
INPROCESS_VARIABLES = {**HOST_VARIABLES, "PROVIDERS": providers_of_test_host(f"{ORIGIN}/provider/v1")}


@pytest.fixture(scope="session")
def host():
    running = InProcessHost(INPROCESS_VARIABLES)
    yield running
    running.close()


@pytest.fixture(scope="session")
def admin_token():
    return HOST_VARIABLES["ADMIN_TOKEN"]


@pytest.fixture(scope="session")
def anonymous(host):
    """A client with no credentials."""
    with httpx.Client(base_url=ORIGIN, transport=host.transport()) as http:
        yield http


@pytest.fixture(scope="session")
def client(host, api_key):  # noqa: F811 (the fixture)
    with httpx.Client(base_url=ORIGIN, transport=host.transport(), headers={"authorization": f"Bearer {api_key}"}) as http:
        yield http


@pytest.fixture
def ai(host) -> AiRecorder:
    """The Workers AI stand-in, its knobs and calls reset around the test."""
    host.ai.reset()
    yield host.ai
    host.ai.reset()


@pytest.fixture
def clock(host) -> FakeClock:
    return host.clock


class Control:
    """What the local host's control routes give a test (tests/e2e/conftest.py's HostControl):
    the AI stand-in's knobs and calls, R2's contents, a message on the queue, and the cron trigger."""

    def __init__(self, host: InProcessHost) -> None:
        self.host = host
        self.set, self.fail_next, self.calls = host.ai.set, host.ai.fail_next, host.ai.calls

    def r2_keys(self, prefix: str) -> list[str]:
        return sorted(key for key in self.host.inference_env.ARCHIVE.objects if key.startswith(prefix))

    def r2_text(self, key: str) -> str:
        return self.host.inference_env.ARCHIVE.objects[key][0]

    def r2_put(self, key: str, text: str) -> None:
        self.host.run(self.host.inference_env.ARCHIVE.put(key, text))

    def send_to_queue(self, body: str) -> None:
        """A message on the event queue, as a producer would send it; delivered at once."""
        async def send() -> None:
            await self.host.queue.send(body)
            await self.host.settle()
        self.host.run(send())

    def fire_cron(self) -> None:
        self.host.run(self.host.scheduled())


@pytest.fixture
def control(host, ai) -> Control:
    return Control(host)
