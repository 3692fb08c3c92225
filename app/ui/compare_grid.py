"""The compare grid: columns are variants (profile x model), rows are cases; every cell streams and rates.

Under each row, a box continues the conversation: the next user message goes to every column of
that case, and each column answers with its own history.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.prototype import Prototype, Rating, Run
from app.core.structure import label
from app.core.threads import CellState, threads_by_variant
from app.engine.events import Cell
from app.ui.cell_widget import CELL_HEIGHT, CELL_WIDTH, MAX_CELL_WIDTH, CellWidget
from app.ui.document_model import Document
from app.ui.plain import plain_tip
from app.ui.previews.context import preview_context
from app.ui.previews.image_drop import ImageDropTarget, attach_to_case
from app.ui.previews.thumbnails import ThumbnailStrip
from app.ui.resources import icon
from app.ui.run_controller import CellKey, RunController, key_of
from app.ui.selection import Selection
from app.ui.team_bar import TeamBar

ROW_HEADER_WIDTH = 160


class _ContinueBox(QWidget):
    def __init__(self, grid: CompareGrid, case_id: str) -> None:
        super().__init__(grid.canvas)
        self.edit = QLineEdit()
        self.edit.setObjectName(f"continue-{case_id}")
        self.edit.setPlaceholderText(
            "Continue the conversation: type the next message for every column, then Enter"
        )
        self.edit.setToolTip("Each column answers with its own history; the cells show the whole thread.")
        send = QToolButton()
        send.setIcon(icon("send"))
        send.setToolTip("Send to every column of this case (Enter)")
        send.clicked.connect(self.edit.returnPressed.emit)
        self.edit.returnPressed.connect(lambda: grid.send_follow_up(case_id, self))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 10)
        layout.addWidget(self.edit, 1)
        layout.addWidget(send)


class CompareGrid(QWidget):
    """Rebuilt when the shown profiles, models or cases change; cells update in place otherwise."""

    sig_message = Signal(str)
    """A short hint for the status bar."""
    sig_run_requested = Signal(object, object, object, bool)
    """(case ids, profile ids, model ids, bypass cache): the person asked to run part of the grid."""

    def __init__(
        self,
        document: Document,
        selection: Selection,
        controller: RunController,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.selection = selection
        self.controller = controller
        self.cells: dict[CellKey, CellWidget] = {}
        self._shown: dict[CellKey, object] = {}
        """What each cell shows (thread ids, stale, n of m, label), so a refresh repaints only changes."""
        self._order: list[list[CellWidget]] = []
        self._columns: list[tuple[str, str]] = []
        self._cell_width = CELL_WIDTH
        self._rows: list[str] = []
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.canvas = QWidget()
        self.scroll_area.setWidget(self.canvas)
        self.empty = QLabel()
        self.empty.setTextFormat(Qt.TextFormat.PlainText)  # may quote a file's problem
        self.empty.setObjectName("grid-empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.team_bar = TeamBar(document, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.team_bar)
        layout.addWidget(self.empty)
        layout.addWidget(self.scroll_area, 1)
        document.sig_structure_changed.connect(self.rebuild)
        document.sig_runs_changed.connect(self.refresh)
        document.sig_rating_changed.connect(self.on_rating_changed)
        selection.sig_changed.connect(self.rebuild)
        controller.sig_cell_queued.connect(self.on_cell_queued)
        controller.sig_cell_started.connect(self.on_cell_started)
        controller.sig_cell_text.connect(self.on_cell_text)
        controller.sig_cell_ended.connect(self.on_cell_ended)
        controller.sig_busy_changed.connect(self.on_busy_changed)
        self.rebuild()

    # -- layout ------------------------------------------------------------------------------------

    def rebuild(self) -> None:
        proto = self.document.proto
        columns = self.selection.columns(proto)
        rows = self.selection.shown(proto, "cases")
        if columns == self._columns and rows == self._rows and self.cells:
            self.refresh_labels()
            self.refresh()
            return
        self._columns, self._rows = columns, rows
        focused = next((k for k, c in self.cells.items() if c.hasFocus()), None)
        self.canvas = QWidget()
        self.cells = {}
        self._shown = {}
        self._order = []
        self._grid = QGridLayout(self.canvas)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(4)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        problem = self._empty_reason(proto, columns, rows)
        self.empty.setText(problem or "")
        self.empty.setVisible(bool(problem))
        self.scroll_area.setVisible(not problem)
        self._headers: list[QLabel] = []
        self._cell_width = CELL_WIDTH
        self._row_labels: list[QLabel] = []
        self._row_thumbs: dict[str, ThumbnailStrip] = {}
        self._row_stops: list[QToolButton] = []
        if not problem:
            self._build(proto, columns, rows)
        self.scroll_area.setWidget(self.canvas)  # deletes the previous canvas and its cells
        self.refresh()
        if focused in self.cells:
            self.cells[focused].setFocus()

    @staticmethod
    def _empty_reason(proto: Prototype, columns: list[tuple[str, str]], rows: list[str]) -> str:
        if not proto.profiles:
            return "This prototype has no profiles yet.\nAdd one with + next to Profiles on the left."
        if not proto.models:
            return "No model to run.\nAdd a model target with + next to Models on the left."
        if not proto.cases:
            return "No cases yet.\nAdd a conversation to try with + next to Cases on the left."
        if not columns:
            return "Tick at least one profile and one model on the left: each pair becomes a column."
        if not rows:
            return "Tick at least one case on the left: each case becomes a row."
        return ""

    def _build(self, proto: Prototype, columns: list[tuple[str, str]], rows: list[str]) -> None:
        corner = QLabel("<span style='color:gray'>Cases ↓ · Variants →</span>")
        corner.setFixedWidth(ROW_HEADER_WIDTH)
        self._grid.addWidget(corner, 0, 0)
        for col, (profile_id, model_id) in enumerate(columns, start=1):
            header = QLabel()
            header.setObjectName("column-header")
            header.setFixedWidth(CELL_WIDTH)
            header.setWordWrap(True)
            header.setProperty("variant", (profile_id, model_id))
            self._headers.append(header)
            self._grid.addWidget(header, 0, col)
        for index, case_id in enumerate(rows):
            grid_row = 1 + index * 2
            self._grid.addWidget(self._row_header(case_id), grid_row, 0, Qt.AlignmentFlag.AlignTop)
            row_cells: list[CellWidget] = []
            for col, (profile_id, model_id) in enumerate(columns, start=1):
                key = (case_id, profile_id, model_id)
                cell = CellWidget(key, label(proto.model(model_id)), self.canvas)
                self.team_bar.configure(cell)
                cell.sig_move.connect(lambda dx, dy, c=cell: self.move_focus(c, dx, dy))
                cell.sig_run.connect(
                    lambda bypass, k=key: self.sig_run_requested.emit([k[0]], [k[1]], [k[2]], bypass)
                )
                cell.sig_stop.connect(lambda k=key: self.controller.stop_cell(Cell(*k)))
                cell.sig_rate.connect(self.on_rate)
                cell.sig_pick.connect(lambda step, k=key: self.pick_answer(k, step))
                self.cells[key] = cell
                row_cells.append(cell)
                self._grid.addWidget(cell, grid_row, col)
            self._order.append(row_cells)
            self._grid.addWidget(_ContinueBox(self, case_id), grid_row + 1, 1, 1, len(columns))
        self.refresh_labels()
        self._fit_columns()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Widen the columns to share the visible width, between CELL_WIDTH and MAX_CELL_WIDTH."""
        if not self._columns or not self.cells:
            return
        spacing = self._grid.horizontalSpacing()
        room = self.scroll_area.viewport().width() - ROW_HEADER_WIDTH - spacing * (len(self._columns) + 1) - 4
        width = max(CELL_WIDTH, min(MAX_CELL_WIDTH, room // len(self._columns)))
        if width == self._cell_width:
            return
        self._cell_width = width
        for header in self._headers:
            header.setFixedWidth(width)
        for cell in self.cells.values():
            cell.setFixedSize(width, CELL_HEIGHT)

    def _row_header(self, case_id: str) -> QWidget:
        box = QWidget(self.canvas)
        box.setFixedWidth(ROW_HEADER_WIDTH)
        text = QLabel()
        text.setObjectName("row-header")
        text.setWordWrap(True)
        text.setProperty("case", case_id)
        text.setTextFormat(Qt.TextFormat.PlainText)
        self._row_labels.append(text)
        buttons = QHBoxLayout()
        for name, tip, slot in (
            (
                "run",
                "Run this row (every column of this case)",
                lambda: self.sig_run_requested.emit([case_id], None, None, False),
            ),
            (
                "rerun",
                "Re-run this row, bypassing the cache",
                lambda: self.sig_run_requested.emit([case_id], None, None, True),
            ),
            ("stop", "Stop this row", lambda: self.controller.stop_case(case_id)),
        ):
            button = QToolButton(box)
            button.setIcon(icon(name))
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.setObjectName(f"row-{name}")
            button.clicked.connect(slot)
            if name == "stop":
                button.setEnabled(self.controller.busy)
                self._row_stops.append(button)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.addWidget(text)
        self._row_thumbs[case_id] = ThumbnailStrip(box)  # the case's images (app/ui/previews)
        layout.addWidget(self._row_thumbs[case_id])
        ImageDropTarget(
            box, lambda files: attach_to_case(self.document, case_id, files, box, self.sig_message.emit)
        )
        layout.addLayout(buttons)
        layout.addStretch(1)
        box.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        return box

    def refresh_labels(self) -> None:
        proto = self.document.proto
        for key, cell in self.cells.items():
            try:
                cell.model_label = label(proto.model(key[2]))  # a renamed target shows at once
                cell.set_preview_context(preview_context(proto, key[1]))
            except KeyError:
                continue
        for header in self._headers:
            profile_id, model_id = header.property("variant")
            try:
                profile, model = proto.profile(profile_id), proto.model(model_id)
            except KeyError:
                continue
            header.setText(
                f"<b>{_html(profile.label)}</b><br><span style='color:gray'>{_html(model.label)}"
                f" · {_html(model.model)}</span>"
            )
            header.setToolTip(plain_tip(profile.description or profile.label))
        for text in self._row_labels:
            case_id = text.property("case")
            try:
                case = proto.case(case_id)
            except KeyError:
                continue
            turns = "\n".join(
                f"{'You' if t.role == 'user' else 'Assistant'}: {t.content}" for t in case.turns
            )
            title = case.description or case.id
            text.setText(f"{title}\n\n{_shorten(turns, 160)}")
            text.setToolTip(plain_tip(turns))
            if case_id in self._row_thumbs:
                folder = self.document.path.parent if self.document.path else None
                self._row_thumbs[case_id].show_images([i for t in case.turns for i in t.images], folder)

    # -- content -----------------------------------------------------------------------------------

    def states(self) -> dict[CellKey, CellState]:
        """The core's cell states (sample 0) under the grid's (case, profile, model) keys."""
        return threads_by_variant(self.document.cell_states().values())

    def refresh(self) -> None:
        """Show every cell's current thread (from the core), except cells that are streaming right now."""
        states = self.states()
        for key, cell in self.cells.items():
            if cell.streaming or self.controller.is_running(key):
                continue
            self._show(cell, states.get(key))

    def _show(self, cell: CellWidget, state: CellState | None) -> None:
        """Show the core's state of the cell; skipped when the cell already shows exactly that."""
        shown = None if state is None else (
            tuple(r.id for r in state.thread), state.stale, state.position, len(state.answers),
            cell.model_label,
        )
        if shown is not None and self._shown.get(cell.key) == shown:
            return
        self._shown[cell.key] = shown
        if state is None:
            cell.show_thread([])
            return
        cell.show_thread(state.thread, stale=state.stale, position=state.position, count=len(state.answers))

    def thread_for(self, key: CellKey) -> list[Run]:
        state = self.states().get(key)
        return list(state.thread) if state is not None else []

    def pick_answer(self, key: CellKey, step: int) -> None:
        """Show the cell's previous (-1) or next (+1) answer; the newest is the default again."""
        state = self.states().get(key)
        if state is None or state.position == 0:
            return
        index = state.position - 1 + step
        if 0 <= index < len(state.answers):
            self.document.choose_answer((*key, 0), state.answers[index].id)

    def on_cell_queued(self, cell: Cell) -> None:
        key = key_of(cell)
        self._shown.pop(key, None)
        widget = self.cells.get(key)
        if widget is not None and not widget.streaming:
            follow_up = self.controller.continuation_of(key)
            widget.show_queued(self.thread_for(key) if follow_up is not None else None, follow_up,
                               self.controller.follow_up_source(key))

    def on_cell_started(self, cell: Cell, cached: bool) -> None:
        key = key_of(cell)
        self._shown.pop(key, None)
        widget = self.cells.get(key)
        if widget is not None:
            follow_up = self.controller.continuation_of(key)
            widget.begin_stream(self.thread_for(key) if follow_up is not None else [], follow_up, cached,
                                self.controller.follow_up_source(key))

    def on_cell_text(self, cell: Cell, text: str) -> None:
        widget = self.cells.get(key_of(cell))
        if widget is not None:
            widget.append_text(text)

    def on_cell_ended(self, cell: Cell, _run: Run) -> None:
        key = key_of(cell)
        widget = self.cells.get(key)
        if widget is not None:
            self.document.choose_answer((*key, 0), None)  # a new answer: show the current one
            self._show(widget, self.states().get(key))

    def on_busy_changed(self, busy: bool) -> None:
        for button in self._row_stops:
            button.setEnabled(busy)

    def on_rate(self, run_id: str, rating: Rating) -> None:
        self.document.set_rating(run_id, rating)

    def on_rating_changed(self, run_id: str) -> None:
        for cell in self.cells.values():
            if cell.run is not None and cell.run.id == run_id:
                cell.show_rating()

    def send_follow_up(self, case_id: str, box: _ContinueBox) -> None:
        message = box.edit.text().strip()
        if not message:
            return
        states = self.states()
        columns = [(p, m) for (p, m) in self._columns if (case_id, p, m) in states]
        if not columns:
            self.sig_message.emit("Run this row first: there is no answer to continue yet.")
            return
        box.edit.clear()
        self.controller.continue_case(case_id, message, columns)

    # -- keyboard ----------------------------------------------------------------------------------

    def move_focus(self, cell: CellWidget, dx: int, dy: int) -> None:
        for r, row in enumerate(self._order):
            if cell in row:
                c = row.index(cell)
                r2 = max(0, min(len(self._order) - 1, r + dy))
                c2 = max(0, min(len(self._order[r2]) - 1, c + dx))
                target = self._order[r2][c2]
                target.setFocus(Qt.FocusReason.OtherFocusReason)
                self.scroll_area.ensureWidgetVisible(target, 20, 20)
                if c2 == 0:  # the first column: bring the case text at the left back into view too
                    bar = self.scroll_area.horizontalScrollBar()
                    bar.setValue(bar.minimum())
                return

    def cells_in_order(self) -> list[CellWidget]:
        """Every cell, row by row, as the person sees them."""
        return [cell for row in self._order for cell in row]

    def focus_first_cell(self) -> None:
        if self._order and self._order[0]:
            self._order[0][0].setFocus(Qt.FocusReason.OtherFocusReason)

    def focused_cell(self) -> CellWidget | None:
        return next((c for c in self.cells.values() if c.hasFocus()), None)


def _html(text: str) -> str:
    import html

    return html.escape(text)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
