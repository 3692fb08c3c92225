"""The app's long-lived back end: one ProviderHub, one Engine, one EngineThread hosting their loop.

Created lazily on first use, so opening a file costs nothing and the window appears at once.
`close()` stops everything it started (the thread-leak guard in tests checks this).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from app.engine.engine import Engine
from app.engine.thread import EngineThread
from app.providers.registry import Registry, concurrency_settings

if TYPE_CHECKING:  # imported when first needed: the SDK takes ~1 s to import, the window must not wait
    from app.providers.hub import ProviderHub
    from app.providers.keys import KeyStore
    from app.providers.pricing import PriceTable


class Services:
    """Owns the hub, the engine and the thread. Pass a hub to use a custom one (tests, benchmarks)."""

    def __init__(
        self, hub: ProviderHub | None = None, *, concurrency: int = 8, per_provider: int = 4
    ) -> None:
        self._hub = hub
        self._registry: Registry | None = None
        self._keys: KeyStore | None = None
        self._prices: PriceTable | None = None
        self._concurrency = concurrency
        self._per_provider = per_provider
        self._engine: Engine | None = None
        self._thread: EngineThread | None = None
        self.closed = False
        self._lock = threading.Lock()

    @property
    def hub(self) -> ProviderHub:
        if self._hub is None:
            # imported before taking the lock: `registry` (read on the GUI thread) must not wait
            # for the SDK import that warm_up runs on a pool thread
            from app.providers.hub import ProviderHub
        with self._lock:  # warm_up may be building it on a pool thread
            if self._hub is None:
                self._hub = ProviderHub(registry=self._registry, keys=self._keys, prices=self._prices)
            return self._hub

    @property
    def keys(self) -> KeyStore:
        """The key store, without building the hub (Settings shows and stores keys before any Run)."""
        from app.providers.keys import KeyStore

        with self._lock:
            if self._hub is not None:
                return self._hub.keys
            if self._keys is None:
                self._keys = KeyStore()
            return self._keys

    @property
    def prices(self) -> PriceTable:
        """The price table, without building the hub (Settings' prices page opens before any Run)."""
        from app.providers.pricing import PriceTable

        with self._lock:
            if self._hub is not None:
                return self._hub.prices
            if self._prices is None:
                self._prices = PriceTable()
            return self._prices

    @property
    def registry(self) -> Registry:
        """The providers, without building the hub (editors list them while the window opens)."""
        with self._lock:
            if self._hub is not None:
                return self._hub.registry
            if self._registry is None:
                self._registry = Registry()
            return self._registry

    def warm_up(self) -> None:
        """Build the hub (imports the SDK, reads prices) off the GUI thread, so the first Run is instant."""
        _ = self.hub

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine(self.hub, concurrency=self._concurrency, per_provider=self._per_provider,
                                  provider_limits=concurrency_settings(self.hub.registry))
        return self._engine

    @property
    def started(self) -> bool:
        return self._thread is not None

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Run a coroutine on the engine's loop; the future resolves on that thread."""
        if self.closed:
            coro.close()
            raise RuntimeError("the app is shutting down")
        if self._thread is None:
            self._thread = EngineThread()
        return self._thread.submit(coro)

    def call(self, fn: Any, *args: Any) -> None:
        """Call a plain function on the engine's loop thread (the engine is not thread-safe)."""
        if self._thread is not None and not self.closed:
            self._thread.call(fn, *args)

    def close(self, timeout: float = 10.0) -> None:
        """Cancel every run, close the hub's connections and stop the loop thread. Idempotent."""
        if self.closed:
            return
        self.closed = True
        thread, self._thread = self._thread, None
        if thread is None:
            return
        engine, hub = self._engine, self._hub

        async def _shutdown() -> None:
            if engine is not None:
                engine.cancel_all()
            if hub is not None:
                await hub.aclose()

        with contextlib.suppress(Exception):
            thread.submit(_shutdown()).result(timeout)
        thread.stop()
