"""Helpers for engine tests: small prototypes, and running the engine on a fresh loop with a real hub.

Tests are plain functions that call `asyncio.run`, so every test gets a fresh loop, a fresh hub
and a clean shutdown (no pytest-asyncio needed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn
from app.engine.engine import Engine
from app.engine.events import EngineEvent
from app.providers.hub import ProviderHub

T = TypeVar("T")


def make_proto(
    *,
    profiles: int = 1,
    models: list[tuple[str, str, str]] | None = None,
    cases: int = 1,
) -> Prototype:
    """Profiles `p0..`, cases `c0..` (user turn `case cN`), models as (id, provider, model name)."""
    return Prototype(
        name="engine test",
        profiles=[Profile(id=f"p{i}", system_prompt=f"You are profile p{i}.") for i in range(profiles)],
        models=[ModelTarget(id=mid, provider=prov, model=name) for mid, prov, name in (models or [])],
        cases=[Case(id=f"c{i}", turns=[Turn(content=f"case c{i}")]) for i in range(cases)],
    )


def run_async(
    body: Callable[[Engine, list[EngineEvent]], Awaitable[T]], **engine_kwargs: Any
) -> tuple[T, list[EngineEvent]]:
    """Run `body(engine, events)` on a fresh loop with a real hub; the hub is closed afterwards."""

    async def main() -> tuple[T, list[EngineEvent]]:
        hub = ProviderHub(timeout=10.0)
        engine = Engine(hub, **engine_kwargs)
        events: list[EngineEvent] = []
        try:
            return await body(engine, events), events
        finally:
            await hub.aclose()

    return asyncio.run(main())
