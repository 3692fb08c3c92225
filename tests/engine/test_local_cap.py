"""The engine sends the bundled model as many requests at once as its pool has children, no more."""

from __future__ import annotations

import asyncio

import pytest
from engine_kit import make_proto
from fakeserver import FakeOpenAI, Reply

from app.engine.engine import Engine
from app.engine.events import EngineEvent
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub


class FakePool:
    """The bundled model's manager, as the hub sees it, with its "children" all on the fake server."""

    def __init__(self, base_url: str, workers: int) -> None:
        self.base_url = base_url
        self.workers = workers

    async def ensure_started(self) -> str:
        return self.base_url

    def crashed(self) -> bool:
        return False

    def last_exit_description(self) -> str:
        return ""


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_the_local_cap_is_the_pool_size(fake_server: FakeOpenAI, workers: int) -> None:
    proto = make_proto(profiles=4, models=[("local", "local", "smollm2-135m-instruct")], cases=2)
    fake_server.default = Reply(ttft=0.1)

    async def main() -> list[str]:
        hub = ProviderHub(local=FakePool(fake_server.base_url, workers), timeout=10.0)
        assert hub.local_workers == workers
        events: list[EngineEvent] = []
        try:
            runs = await Engine(hub).run(proto, RunPlan(use_cache=False), events.append)
        finally:
            await hub.aclose()
        return [run.status for run in runs]

    assert asyncio.run(main()) == ["ok"] * 8
    assert fake_server.max_in_flight == workers
