"""One-shot background jobs (load, save, score) that deliver their result on the GUI thread.

Modelled on Anki's `QueryOp`: `Job(fn).success(cb).failure(cb).start()`. `fn` runs in Qt's
global thread pool; the callbacks run on the main thread through a queued signal, so they
may touch widgets. A job never touches widgets itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

_live: set[Job] = set()
"""Jobs in flight, kept alive until they deliver."""


class _Relay(QObject):
    """Lives on the main thread; its own slot receives the worker's signal through a queued connection."""

    sig_done = Signal(object, object)
    """(result, exception): emitted from the worker, received on the main thread."""

    def __init__(self, deliver: Callable[[Any, BaseException | None], None]) -> None:
        super().__init__()
        self._deliver = deliver
        self.sig_done.connect(self.on_done)

    @Slot(object, object)
    def on_done(self, result: Any, exc: BaseException | None) -> None:
        self._deliver(result, exc)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # delivered to the failure callback, never lost
            self._relay.sig_done.emit(None, exc)
        else:
            self._relay.sig_done.emit(result, None)


class Job:
    """A function to run off the GUI thread, with callbacks on the GUI thread."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn = fn
        self._on_success: Callable[[Any], None] = lambda _result: None
        self._on_failure: Callable[[BaseException], None] | None = None
        self._owner: QObject | None = None
        self._relay = _Relay(self._deliver)

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
        QThreadPool.globalInstance().start(_Runnable(self._fn, self._relay))
        return self

    def _deliver(self, result: Any, exc: BaseException | None) -> None:
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
            # Release the job (and so its relay QObject) only after this slot has returned:
            # deleting a QObject from inside its own queued slot is a use-after-free.
            QTimer.singleShot(0, lambda: _live.discard(self))


def wait_for_jobs(timeout_ms: int = 10_000) -> bool:
    """Block until every pooled job finished (used at shutdown and by tests)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
