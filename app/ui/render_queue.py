"""Finished answers rendered one per event-loop turn, so cells that end together never stall the GUI.

A finished 20 KB answer takes ~20-50 ms to lay out as its preview; twelve columns ending in the
same drain used to do all of it in one go (bench/bench_ui.py: ticks 200-300 ms late). A pane asks
for its render only once it is painted, that is on screen: off-screen cells render when scrolled to.
Each render runs from a 0 ms timer, so input, painting and streaming get the loop between two.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QTimer


class RenderQueue(QObject):
    """Renders waiting in order of request, one per turn of the event loop."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._waiting: dict[int, tuple[QObject, Callable[[], None]]] = {}
        self.done = 0
        """Renders run so far (the bench checks that lazy rendering still renders everything)."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._next)

    def request(self, owner: QObject, render: Callable[[], None]) -> None:
        """Run `render` soon, once; a second request from the same owner keeps its place."""
        key = id(owner)
        if key not in self._waiting:
            self._waiting[key] = (owner, render)
        if not self._timer.isActive():
            self._timer.start()

    def cancel(self, owner: QObject) -> None:
        self._waiting.pop(id(owner), None)

    def waiting(self) -> int:
        return len(self._waiting)

    def _next(self) -> None:
        while self._waiting:
            key = next(iter(self._waiting))
            owner, render = self._waiting.pop(key)
            if shiboken6.isValid(owner):  # a closed window's cells may be gone
                render()
                self.done += 1
                break
        if self._waiting:
            self._timer.start()


_shared: RenderQueue | None = None


def render_queue() -> RenderQueue:
    """The GUI thread's queue (one for every window: they share one event loop)."""
    global _shared
    if _shared is None or not shiboken6.isValid(_shared):
        _shared = RenderQueue()
    return _shared
