"""Helpers for provider tests (imported by test modules; fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from app.core.prototype import Message, ModelParams, ModelTarget
from app.providers.events import StreamEvent
from app.providers.hub import ProviderHub

T = TypeVar("T")
FAKE_KEY = "sk-" + "test-FAKEKEY-0123456789abcdef"  # split so secret scanners skip this fake


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def target(provider: str = "fake", model: str = "fake-model", **params: Any) -> ModelTarget:
    return ModelTarget(id="t", provider=provider, model=model, params=ModelParams(**params))


def user(text: str = "Hello there") -> list[Message]:
    return [Message(role="user", content=text)]


async def collect(hub: ProviderHub, tgt: ModelTarget, messages: list[Message] | None = None,
                  **kwargs: Any) -> list[StreamEvent]:
    return [event async for event in hub.stream(tgt, messages or user(), **kwargs)]


def stream_events(hub: ProviderHub, tgt: ModelTarget, messages: list[Message] | None = None,
                  **kwargs: Any) -> list[StreamEvent]:
    """Run one stream on a fresh loop, closing the hub's clients on the same loop."""

    async def go() -> list[StreamEvent]:
        try:
            return await collect(hub, tgt, messages, **kwargs)
        finally:
            await hub.aclose()

    return run(go())


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class FakeLocal:
    """Stands in for the bundled model's process manager: its "process" is the fake server."""

    slots = 4

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.started = 0
        self.dead = False
        self.api_key = "session-key-for-test"

    async def acquire(self, *, embedding: bool = False) -> FakeLease:
        self.started += 1
        self.dead = False
        return FakeLease(self)


class FakeLease:
    """A lease whose "process" is dead when its manager says so."""

    def __init__(self, local: FakeLocal) -> None:
        self.local = local
        self.base_url = local.base_url
        self.api_key = local.api_key

    def crashed(self) -> bool:
        return self.local.dead

    def last_exit_description(self) -> str:
        return "killed by signal SIGSEGV (11)" if self.local.dead else ""

    def release(self) -> None:
        pass


async def aiter_to_list(it: AsyncIterator[T]) -> list[T]:
    return [x async for x in it]


ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], input=stdin, capture_output=True,
                          text=True, env=full_env, cwd=ROOT, timeout=timeout, check=False)
