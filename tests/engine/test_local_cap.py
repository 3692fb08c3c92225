"""The engine sends the bundled model as many requests at once as it has decoding slots, no more."""

from __future__ import annotations

import asyncio

import pytest
from engine_kit import make_proto
from fakeserver import FakeOpenAI, Reply

from app.engine.engine import Engine
from app.engine.events import EngineEvent
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub


class FakeSlots:
    """The bundled model's manager, as the hub sees it, served by the fake server."""

    def __init__(self, base_url: str, slots: int) -> None:
        self.base_url = base_url
        self.api_key = "session-key"
        self.slots = slots

    async def acquire(self, *, embedding: bool = False) -> FakeSlots:
        return self

    def crashed(self) -> bool:
        return False

    def last_exit_description(self) -> str:
        return ""

    def release(self) -> None:
        pass


@pytest.mark.parametrize("slots", [1, 2, 4])
def test_the_local_cap_is_the_slot_count(fake_server: FakeOpenAI, slots: int) -> None:
    proto = make_proto(profiles=4, models=[("local", "local", "smollm2-135m-instruct")], cases=2)
    fake_server.default = Reply(ttft=0.1)

    async def main() -> list[str]:
        hub = ProviderHub(local=FakeSlots(fake_server.base_url, slots), timeout=10.0)
        assert hub.local_slots == slots
        events: list[EngineEvent] = []
        try:
            runs = await Engine(hub).run(proto, RunPlan(use_cache=False), events.append)
        finally:
            await hub.aclose()
        return [run.status for run in runs]

    assert asyncio.run(main()) == ["ok"] * 8
    assert fake_server.max_in_flight == slots
