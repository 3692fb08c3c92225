"""Samples of one cell are separate draws: each has its own cache slot, so N samples with the cache
on are N requests the first time and N replays (not one answer N times) the next."""

from __future__ import annotations

import asyncio

from fakeserver import FakeOpenAI, Reply

from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn
from app.engine.engine import Engine
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub


def test_each_sample_has_its_own_cache_slot(fake_server: FakeOpenAI) -> None:
    answers = iter(f"draw {n}" for n in range(100))
    fake_server.responder = lambda rec: Reply(text=next(answers))
    proto = Prototype(
        name="s",
        profiles=[Profile(id="p", system_prompt="x")],
        models=[ModelTarget(id="m", provider="vllm", model="fake-model", base_url=fake_server.base_url)],
        cases=[Case(id="c", turns=[Turn(content="hi")])],
    )
    plan = RunPlan(repeat=3)

    async def once() -> list[str]:
        hub = ProviderHub(max_retries=0)
        try:
            runs = await Engine(hub).run(proto, plan, lambda _e: None)
        finally:
            await hub.aclose()
        return [r.output for r in sorted(runs, key=lambda r: r.sample)]

    first = asyncio.run(once())
    assert len(set(first)) == 3 and len(fake_server.chat_requests()) == 3
    again = asyncio.run(once())
    assert again == first and len(fake_server.chat_requests()) == 3  # replayed per sample
