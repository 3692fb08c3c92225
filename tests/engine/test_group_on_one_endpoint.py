"""A case's columns wait to start together, but a group bigger than its endpoint's cap (4 profiles x
3 models on one server, cap 4) must still start: it used to wait forever."""

from __future__ import annotations

import asyncio

from fakeserver import FakeOpenAI, Reply

from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn
from app.engine.engine import Engine
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub


def test_a_group_wider_than_the_endpoint_cap_runs(fake_server: FakeOpenAI) -> None:
    fake_server.default = Reply(text="ok", ttft=0.05)
    proto = Prototype(
        name="wide",
        profiles=[Profile(id=f"p{n}", system_prompt=f"v{n}") for n in range(4)],
        models=[ModelTarget(id=f"m{n}", provider="vllm", model=f"model-{n}", base_url=fake_server.base_url)
                for n in range(3)],
        cases=[Case(id="c", turns=[Turn(content="hi")])],
    )

    async def go() -> list[str]:
        hub = ProviderHub(max_retries=0)
        try:
            runs = await asyncio.wait_for(
                Engine(hub, concurrency=8, per_provider=4).run(proto, RunPlan(), lambda _e: None), 30)
        finally:
            await hub.aclose()
        return [r.status for r in runs]

    assert asyncio.run(go()) == ["ok"] * 12
    assert fake_server.max_in_flight <= 4
