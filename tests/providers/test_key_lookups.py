"""Endpoints and keys are looked up once per target, in a worker thread: a slow keyring never
stalls the event loop, and a run of many cells does not ask the keyring for every cell."""

from __future__ import annotations

import asyncio
import time

from fakeserver import FakeOpenAI

from app.core.prototype import Message, ModelTarget
from app.providers.hub import ProviderHub
from app.providers.keys import KeyStore
from app.providers.registry import Registry

KEY = "sk-" "lookup-test-0123456789"
SLEEP = 3.0


class SlowKeyring:
    """A keyring that takes 0.3 s a lookup (a locked OS keyring can take longer) and counts them."""

    priority = 1

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.lookups = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.lookups += 1
        time.sleep(SLEEP)
        return self.inner.get_password(service, username)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_keyring_is_asked_once_per_target_and_never_on_the_loop(memory_keyring: object,
                                                                fake_server: FakeOpenAI,
                                                                monkeypatch: object) -> None:
    import keyring

    Registry().add("keyed", fake_server.base_url, key_env="KEYED_API_KEY")
    KeyStore().store("keyed", f"http://127.0.0.1:{fake_server.port}", KEY)
    slow = SlowKeyring(memory_keyring)
    monkeypatch.setattr(keyring, "get_keyring", lambda: slow)  # type: ignore[attr-defined]
    monkeypatch.setattr(keyring, "get_password", slow.get_password)  # type: ignore[attr-defined]
    target = ModelTarget(id="t", provider="keyed", model="fake-model")

    async def main() -> tuple[float, list[str]]:
        hub = ProviderHub(timeout=5.0)
        worst_gap = 0.0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal worst_gap
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                worst_gap = max(worst_gap, now - last)
                last = now

        async def one(i: int) -> str:
            events = [e async for e in hub.stream(target, [Message(role="user", content=f"q{i}")],
                                                  use_cache=False)]
            return type(events[-1]).__name__

        tick = asyncio.create_task(ticker())
        try:
            kinds = list(await asyncio.gather(*(one(i) for i in range(12))))
        finally:
            stop.set()
            await tick
            await hub.aclose()
        return worst_gap, kinds

    gap, kinds = asyncio.run(main())
    assert kinds == ["Finished"] * 12
    # (creating the SDK client stalls the loop ~0.5 s once, loading TLS settings;
    # a keyring call on the loop stalled it 3 s)
    assert gap < SLEEP / 2, f"the event loop stalled for {gap:.2f}s on a keyring lookup"
    assert slow.lookups <= 3, f"{slow.lookups} keyring lookups for one target"
    assert all(r.authorization == f"Bearer {KEY}" for r in fake_server.chat_requests())
