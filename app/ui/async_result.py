"""Deliver the result of an engine-thread future to a callback on the GUI thread."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

_live: set[_Delivery] = set()


class _Delivery(QObject):
    sig_done = Signal(object)

    def __init__(
        self,
        future: concurrent.futures.Future[Any],
        owner: QObject,
        ok: Callable[[Any], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        super().__init__()
        self._ok = ok
        self._failed = failed
        self._owner_alive = True
        owner.destroyed.connect(self._owner_gone)
        self.sig_done.connect(self.on_done)  # queued: the future completes on the engine thread
        _live.add(self)
        future.add_done_callback(self.sig_done.emit)

    @Slot()
    def _owner_gone(self) -> None:
        self._owner_alive = False

    @Slot(object)
    def on_done(self, future: concurrent.futures.Future[Any]) -> None:
        _live.discard(self)
        if not self._owner_alive:
            return
        if future.cancelled():
            self._failed(RuntimeError("cancelled"))
            return
        exc = future.exception()
        if exc is not None:
            self._failed(exc)
        else:
            self._ok(future.result())


def deliver(
    future: concurrent.futures.Future[Any],
    owner: QObject,
    ok: Callable[[Any], None],
    failed: Callable[[BaseException], None],
) -> None:
    """Call `ok(result)` or `failed(exc)` on the GUI thread, unless `owner` was destroyed first."""
    _Delivery(future, owner, ok, failed)
