"""Handing work and results between threads: the one way, `GuiRelay`, and what is built on it.

- `GuiRelay.post(fn, arg)`, from any thread, runs `fn(arg)` on the GUI thread (a queued signal).
  The run controller's finished futures and the Evals tab's progress use it directly.
- `Job(fn).success(cb).failure(cb).start()` (Anki's `QueryOp`): `fn` runs in Qt's global thread
  pool, the callbacks on the GUI thread, so they may touch widgets. A job never touches widgets.
- `deliver(future, owner, ok, failed)`: the same for a future of the engine thread.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

_live: set[object] = set()
"""Jobs and deliveries in flight, kept alive until they deliver."""


class GuiRelay(QObject):
    """Create on the GUI thread; `post(fn, arg)` from any thread then runs `fn(arg)` there."""

    sig_call = Signal(object, object)
    """(fn, arg): emitted from any thread, received on the GUI thread (queued connection)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sig_call.connect(self._on_call)

    def post(self, fn: Callable[[Any], None], arg: Any) -> None:
        """Thread-safe: call `fn(arg)` on the GUI thread soon."""
        self.sig_call.emit(fn, arg)

    @Slot(object, object)
    def _on_call(self, fn: Callable[[Any], None], arg: Any) -> None:
        fn(arg)


def _release_later(item: object) -> None:
    """Drop a finished job after its slot returned: deleting a QObject inside its own slot is a
    use-after-free."""
    QTimer.singleShot(0, lambda: _live.discard(item))


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: GuiRelay, done: Callable[[Any], None]) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay
        self._done = done

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # delivered to the failure callback, never lost
            self._relay.post(self._done, (None, exc))
        else:
            self._relay.post(self._done, (result, None))


class Job:
    """A function to run off the GUI thread, with callbacks on the GUI thread."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn = fn
        self._on_success: Callable[[Any], None] = lambda _result: None
        self._on_failure: Callable[[BaseException], None] | None = None
        self._owner: QObject | None = None
        self._relay = GuiRelay()

    def owned_by(self, owner: QObject | None) -> Job:
        """Drop the result if `owner` (say, a closed dialog) was deleted before the job finished."""
        self._owner = owner
        return self

    def success(self, callback: Callable[[Any], None]) -> Job:
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[BaseException], None]) -> Job:
        self._on_failure = callback
        return self

    def start(self) -> Job:
        _live.add(self)
        QThreadPool.globalInstance().start(_Runnable(self._fn, self._relay, self._deliver))
        return self

    def _deliver(self, outcome: tuple[Any, BaseException | None]) -> None:
        result, exc = outcome
        try:
            if self._owner is not None and not shiboken6.isValid(self._owner):
                return
            if exc is None:
                self._on_success(result)
            elif self._on_failure is not None:
                self._on_failure(exc)
            else:
                raise exc
        finally:
            _release_later(self)


def deliver(
    future: concurrent.futures.Future[Any],
    owner: QObject,
    ok: Callable[[Any], None],
    failed: Callable[[BaseException], None],
) -> None:
    """Call `ok(result)` or `failed(exc)` on the GUI thread, unless `owner` was destroyed first."""
    relay = GuiRelay()
    _live.add(relay)

    def on_done(done: concurrent.futures.Future[Any]) -> None:
        _release_later(relay)
        if not shiboken6.isValid(owner):
            return
        if done.cancelled():
            failed(RuntimeError("cancelled"))
            return
        exc = done.exception()
        if exc is not None:
            failed(exc)
        else:
            ok(done.result())

    future.add_done_callback(lambda done: relay.post(on_done, done))


def wait_for_jobs(timeout_ms: int = 10_000) -> bool:
    """Block until every pooled job finished (used at shutdown and by tests)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
