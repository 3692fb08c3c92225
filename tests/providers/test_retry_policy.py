"""One retry policy (`app/providers/retry.py`) for the hub and the engine: the same failures are
retried, with the same waits. Before, the hub also retried timeouts (so a hung endpoint cost three
full timeouts) while the engine did not."""

from __future__ import annotations

import asyncio

from fakeserver import FakeOpenAI, Reply

from app.core.prototype import Message, ModelTarget
from app.providers import retry
from app.providers.events import ErrorKind, StreamFailed
from app.providers.hub import ProviderHub


def _stream(hub: ProviderHub, target: ModelTarget) -> list[object]:
    async def main() -> list[object]:
        try:
            messages = [Message(role="user", content="hi")]
            return [e async for e in hub.stream(target, messages, use_cache=False)]
        finally:
            await hub.aclose()

    return asyncio.run(main())


def test_a_timeout_is_not_retried(fake_server: FakeOpenAI, fake_provider: str) -> None:
    fake_server.default = Reply(fault="hang")
    events = _stream(ProviderHub(timeout=0.5, max_retries=2), ModelTarget(id="t", provider="fake", model="m"))
    last = events[-1]
    assert isinstance(last, StreamFailed) and last.kind is ErrorKind.TIMEOUT
    assert len(fake_server.chat_requests()) == 1


def test_server_errors_are_retried_with_the_shared_backoff(fake_server: FakeOpenAI,
                                                           fake_provider: str) -> None:
    fake_server.default = Reply(status=503)
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    hub = ProviderHub(timeout=5.0, max_retries=2, sleep=record)
    events = _stream(hub, ModelTarget(id="t", provider="fake", model="m"))
    assert isinstance(events[-1], StreamFailed)
    assert waits == [retry.backoff(0), retry.backoff(1)] == [0.5, 1.0]
    assert len(fake_server.chat_requests()) == 3
