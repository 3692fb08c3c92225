"""The bridge from the engine's thread to the GUI: engine events in, coalesced Qt signals out.

The engine calls a sink from `_sink_for` on its own thread; it only appends to a locked list. A QTimer on
the GUI thread drains that list about 30 times a second, merges every cell's text deltas into
one append, appends finished runs to the Document, and emits the signals below, in order, text for
at most `TEXTS_PER_TURN` cells per turn of the event loop. So a cell repaints at most ~30 times a
second however fast tokens arrive, and no widget is ever touched from the engine thread.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Iterable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.core.prototype import Run
from app.core.simulation import turn_words
from app.engine.events import (
    Cell,
    CellCancelled,
    CellDelta,
    CellFailed,
    CellFinished,
    CellQueued,
    CellStarted,
    ConversationEnded,
    EngineEvent,
    Progress,
    UserTurnWritten,
)
from app.engine.plan import RunPlan
from app.ui.document_model import Document
from app.ui.jobs import GuiRelay
from app.ui.services import Services

FRAME_MS = 33
"""How often buffered events reach the widgets: about 30 repaints a second at most."""

MS_PER_STREAMING_CELL = 8
"""The drain interval grows with the cells that streamed text in the last drain: appending to a
cell's growing text costs ~2 ms of layout on the GUI thread, so 12 columns at 30 appends a second
would keep it busy most of the time (bench/bench_ui.py). 12 cells: a repaint every ~100 ms each."""

TEXTS_PER_TURN = 4
"""Cells given their text per turn of the event loop; the rest of a drain follows in the next turns
(a 0 ms timer), so twelve columns appending at once never hold the GUI thread for one long stretch."""

CellKey = tuple[str, str, str]
"""(case, profile, model): the grid shows one thread per variant and case."""


def key_of(cell: Cell) -> CellKey:
    return (cell.case, cell.profile, cell.model)


class RunController(QObject):
    """Starts runs and continuations on the engine and reports them on the GUI thread."""

    sig_cell_queued = Signal(object)
    """A Cell is waiting for a slot."""
    sig_cell_started = Signal(object, bool)
    """(Cell, cached): the request was sent or answered from cache."""
    sig_cell_text = Signal(object, str)
    """(Cell, text): text received since the last frame, to append."""
    sig_cell_ended = Signal(object, object)
    """(Cell, Run): the cell finished, failed or was cancelled; the run is already in the Document."""
    sig_progress = Signal(object)
    """A Progress of the newest batch."""
    sig_busy_changed = Signal(bool)
    """Whether any run or continuation is going on."""
    sig_error = Signal(str)
    """A whole request could not start (e.g. a plan naming nothing); a user-facing sentence."""

    def __init__(self, document: Document, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.services = services
        self._lock = threading.Lock()
        self._pending: list[tuple[int, EngineEvent]] = []
        self._epoch = 0
        """Bumped when another file is opened: events of runs started before are dropped."""
        self._futures: set[concurrent.futures.Future[list[Run]]] = set()
        self._continuing: dict[CellKey, str] = {}
        self._simulated: dict[CellKey, str] = {}
        """Cells answering a simulated user's message: who wrote it (`Run.user_turn`)."""
        self._written: dict[CellKey, int] = {}
        """Messages a simulated user wrote so far in each running conversation (`turn_words`)."""
        self.conversations = False
        """The newest run has simulated conversations: its progress counts replies, not cells."""
        self._running: set[CellKey] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._drain)
        self._backlog: list[tuple[str, object]] = []
        """Drained events not delivered yet, in order (`TEXTS_PER_TURN`)."""
        self._next_turn = QTimer(self)
        self._next_turn.setSingleShot(True)
        self._next_turn.setInterval(0)
        self._next_turn.timeout.connect(self._deliver)
        self._relay = GuiRelay(self)

    # -- commands ----------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._futures)

    def is_running(self, key: CellKey) -> bool:
        return key in self._running

    def continuation_of(self, key: CellKey) -> str | None:
        """The user message being sent to this cell's thread, while it streams."""
        return self._continuing.get(key)

    def follow_up_source(self, key: CellKey) -> str | None:
        """`simulated` or `scripted` while a simulated user's message is being answered, else None."""
        return self._simulated.get(key)

    def turn_words(self, key: CellKey) -> str:
        """"turn 2 of up to 6" while a simulated conversation runs in this cell, else ""."""
        proto = self.document.proto
        try:
            case = proto.case(key[0])
        except KeyError:
            return ""
        profile = next((p for p in proto.profiles if p.id == key[1]), None)
        return turn_words(case, profile, self._written.get(key, 0))

    def run(self, plan: RunPlan) -> None:
        snapshot = self.document.proto.model_copy(deep=True)  # the engine reads it on another thread
        cases = set(plan.cases) or {c.id for c in snapshot.cases}
        self.conversations = not plan.baseline and any(
            c.simulated_user is not None for c in snapshot.cases if c.id in cases
        )
        self._start(self.services.engine.run(snapshot, plan, self._sink_for(self._epoch)))

    def continue_case(self, case_id: str, message: str, columns: Iterable[tuple[str, str]]) -> None:
        columns = list(columns)
        for profile, model in columns:
            self._continuing[(case_id, profile, model)] = message
        snapshot = self.document.proto.model_copy(deep=True)
        self._start(
            self.services.engine.continue_case(
                snapshot, case_id, message, columns, self._sink_for(self._epoch)
            )
        )

    def stop_all(self) -> None:
        if self.services.started:
            self.services.call(self.services.engine.cancel_all)

    def abandon(self) -> None:
        """Another prototype replaced the document: stop everything and drop what is still in flight."""
        self._epoch += 1
        self._backlog.clear()
        self.stop_all()
        self._running.clear()
        self._continuing.clear()
        self._simulated.clear()
        self._written.clear()

    def stop_case(self, case_id: str) -> None:
        if self.services.started:
            self.services.call(self.services.engine.cancel_case, case_id)

    def stop_cell(self, cell: Cell) -> None:
        if self.services.started:
            self.services.call(self.services.engine.cancel_cell, cell)

    def _start(self, coro: object) -> None:
        try:
            future = self.services.submit(coro)  # type: ignore[arg-type]
        except RuntimeError as exc:
            self.sig_error.emit(str(exc))
            return
        was_busy = self.busy
        self._futures.add(future)
        future.add_done_callback(lambda done: self._relay.post(self._on_future_done, done))
        if not self._timer.isActive():
            self._timer.start()
        if not was_busy:
            self.sig_busy_changed.emit(True)

    # -- engine thread -----------------------------------------------------------------------------

    def _sink_for(self, epoch: int):
        def sink(event: EngineEvent) -> None:
            """Called on the engine thread: buffer only."""
            with self._lock:
                self._pending.append((epoch, event))

        return sink

    # -- GUI thread --------------------------------------------------------------------------------

    @Slot(object)
    def _on_future_done(self, future: concurrent.futures.Future[list[Run]]) -> None:
        self._drain()
        self._deliver(everything=True)  # all ended cells are shown before "not busy"
        self._futures.discard(future)
        exc = None if future.cancelled() else future.exception()
        if exc is not None:
            self.sig_error.emit(str(exc) or type(exc).__name__)
        if not self._futures:
            self._timer.stop()
            self._running.clear()
            self._continuing.clear()
            self._simulated.clear()
            self._written.clear()
            self.sig_busy_changed.emit(False)

    @Slot()
    def _drain(self) -> None:
        with self._lock:
            tagged, self._pending = self._pending, []
        events = [event for epoch, event in tagged if epoch == self._epoch]
        if not events:
            return
        texts: dict[Cell, list[str]] = {}
        ended: list[tuple[Cell, Run]] = []
        progress: Progress | None = None
        order: list[tuple[str, object]] = []
        conversations: list[ConversationEnded] = []
        for event in events:
            if isinstance(event, CellDelta):
                if event.cell not in texts:
                    texts[event.cell] = []
                    order.append(("text", event.cell))
                texts[event.cell].append(event.text)
            elif isinstance(event, CellStarted):
                self._flush_text(event.cell, texts, order)
                order.append(("started", event))
            elif isinstance(event, CellQueued):
                order.append(("queued", event.cell))
            elif isinstance(event, UserTurnWritten):
                order.append(("user_turn", event))
            elif isinstance(event, ConversationEnded):
                conversations.append(event)
            elif isinstance(event, CellFinished | CellFailed | CellCancelled):
                self._flush_text(event.cell, texts, order)
                ended.append((event.cell, event.run))
                order.append(("ended", (event.cell, event.run)))
            elif isinstance(event, Progress):
                progress = event
        if ended:
            self.document.add_runs(run for _cell, run in ended)
        for over in conversations:  # after its last run is stored
            if over.end is not None and over.last_run is not None:
                self.document.end_conversation(over.last_run, over.end)
        self._timer.setInterval(max(FRAME_MS, MS_PER_STREAMING_CELL * len(texts)))
        for kind, payload in order:
            if kind == "text":
                chunks = texts.pop(payload, None)  # type: ignore[call-overload]
                if chunks:
                    self._backlog.append(("flushed", (payload, "".join(chunks))))
            else:
                self._backlog.append((kind, payload))
        if progress is not None:
            self._backlog.append(("progress", progress))
        self._deliver()

    @Slot()
    def _deliver(self, everything: bool = False) -> None:
        """Emit drained events in order: text for at most `TEXTS_PER_TURN` cells, the rest next turn."""
        texts = 0
        while self._backlog:
            if not everything and texts == TEXTS_PER_TURN and self._backlog[0][0] == "flushed":
                self._next_turn.start()
                return
            kind, payload = self._backlog.pop(0)
            if kind == "flushed":
                texts += 1
                cell, text = payload  # type: ignore[misc]
                self.sig_cell_text.emit(cell, text)
            elif kind == "started":
                started: CellStarted = payload  # type: ignore[assignment]
                self._running.add(key_of(started.cell))
                self.sig_cell_started.emit(started.cell, started.cached)
            elif kind == "user_turn":  # a simulated user wrote the next message: shown like a follow-up
                written: UserTurnWritten = payload  # type: ignore[assignment]
                self._continuing[key_of(written.cell)] = written.text
                self._simulated[key_of(written.cell)] = written.source
                self._written[key_of(written.cell)] = written.turn
            elif kind == "queued":
                if key_of(payload) not in self._continuing:  # type: ignore[arg-type]
                    self._written.pop(key_of(payload), None)  # type: ignore[arg-type]  # a new conversation
                self._running.add(key_of(payload))  # type: ignore[arg-type]
                self.sig_cell_queued.emit(payload)
            elif kind == "ended":
                cell, run = payload  # type: ignore[misc]
                self._running.discard(key_of(cell))
                self._continuing.pop(key_of(cell), None)
                self._simulated.pop(key_of(cell), None)
                self.sig_cell_ended.emit(cell, run)
            elif kind == "progress":
                self.sig_progress.emit(payload)

    @staticmethod
    def _flush_text(cell: Cell, texts: dict[Cell, list[str]], order: list[tuple[str, object]]) -> None:
        """Keep text received before a start/end event ahead of it."""
        chunks = texts.pop(cell, None)
        if chunks:
            order.append(("flushed", (cell, "".join(chunks))))
