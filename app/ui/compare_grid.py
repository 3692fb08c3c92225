"""The compare grid: columns are variants (profile x model), rows are cases; every cell streams and rates.

Under each row, a box continues the conversation: the next user message goes to every column of
that case, and each column answers with its own history.
"""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.placeholders import render_vars
from app.core.prototype import Prototype, Rating, Run
from app.core.samples import offers_new_sample, variation
from app.core.simulation import case_label_text
from app.core.structure import label
from app.core.threads import CellState, threads_by_variant
from app.engine.events import Cell
from app.ui.cell_widget import CELL_HEIGHT, CELL_WIDTH, FOCUS_COLOR, CellWidget
from app.ui.document_model import Document
from app.ui.grid_controls import GridControls
from app.ui.grid_layout import GridLayout, column_width
from app.ui.plain import plain_tip
from app.ui.previews.context import preview_context
from app.ui.previews.image_drop import ImageDropTarget, attach_to_case
from app.ui.previews.thumbnails import ThumbnailStrip
from app.ui.resources import icon
from app.ui.run_controller import CellKey, RunController, key_of
from app.ui.selection import Selection
from app.ui.team_bar import TeamBar
from app.ui.ui_state import UiState

ROW_HEADER_WIDTH = 160
FIT_MAX_WIDTH = 900
"""Fit to width stops widening a column here: longer lines get hard to read."""
GROUP_GAP = 10
"""Extra space between groups of columns (one profile's, or one model's)."""
LAYOUT_SECTION = "grid_layouts"
"""Where `UiState` keeps each file's grid layout."""
ROW_BUTTON_FOCUS = f"QToolButton:focus {{ border: 2px solid {FOCUS_COLOR}; border-radius: 3px; }}"
"""A row's flat buttons show Tab's focus with the cells' blue frame (the style's own mark is faint)."""


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
        send.setAccessibleName("Send to every column of this case")
        send.clicked.connect(self.edit.returnPressed.emit)
        self.edit.returnPressed.connect(lambda: grid.send_follow_up(case_id, self))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 10)
        layout.addWidget(self.edit, 1)
        layout.addWidget(send)


class CompareGrid(QWidget):
    """Rebuilt when the shown profiles, models or cases change; cells update in place otherwise.

    The case column is frozen: it lives in its own scroll area, left of the answers, and follows
    their vertical scrolling, so the case text stays in view however far the columns scroll.
    """

    sig_message = Signal(str)
    """A short hint for the status bar."""
    sig_run_requested = Signal(object, object, object, bool)
    """(case ids, profile ids, model ids, bypass cache): the person asked to run part of the grid."""
    sig_samples_requested = Signal(object, int)
    """(cell key, N): run N samples of one cell."""

    def __init__(
        self,
        document: Document,
        selection: Selection,
        controller: RunController,
        parent: QWidget | None = None,
        *,
        state: UiState | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.selection = selection
        self.controller = controller
        self.state = state
        self.layout_prefs = GridLayout()
        """Grouping, hidden columns and fit-to-width, per user and file (kept in `state`)."""
        self.cells: dict[CellKey, CellWidget] = {}
        self._shown: dict[CellKey, object] = {}
        """What each cell shows (thread ids, stale, n of m, label), so a refresh repaints only changes."""
        self._order: list[list[CellWidget]] = []
        self._columns: list[tuple[str, str]] = []
        self._group_by = self.layout_prefs.group_by
        self._cell_width = CELL_WIDTH
        self._rows: list[str] = []
        self._headers: list[QLabel] = []
        self._group_labels: list[QLabel] = []
        self._row_boxes: list[QWidget] = []
        self._row_labels: list[QLabel] = []
        self._row_stops: list[QToolButton] = []
        self._gaps = 0
        self._grid_col: list[int] = []
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.canvas = QWidget()
        self.scroll_area.setWidget(self.canvas)
        self.case_column = QScrollArea(self)
        self.case_column.setObjectName("case-column")
        self.case_column.setFrameShape(QFrame.Shape.NoFrame)
        self.case_column.setFixedWidth(ROW_HEADER_WIDTH)
        self.case_column.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.case_column.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.case_column.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # it scrolls with the answers: no Tab stop
        self.case_canvas = QWidget()
        self.case_column.setWidget(self.case_canvas)
        self.corner = QLabel("<span style='color:gray'>Cases ↓ · Variants →</span>")
        self.corner.setObjectName("grid-corner")
        self.scroll_area.viewport().installEventFilter(self)
        main_bar, case_bar = self.scroll_area.verticalScrollBar(), self.case_column.verticalScrollBar()
        main_bar.valueChanged.connect(case_bar.setValue)
        case_bar.valueChanged.connect(main_bar.setValue)  # the wheel over the case column scrolls both
        self.empty = QLabel()
        self.empty.setTextFormat(Qt.TextFormat.PlainText)  # may quote a file's problem
        self.empty.setObjectName("grid-empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.team_bar = TeamBar(document, self)
        self.controls = GridControls(self)
        self.body = QWidget(self)
        body = QHBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.case_column)
        body.addWidget(self.scroll_area, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.team_bar)
        layout.addWidget(self.controls)
        layout.addWidget(self.empty)
        layout.addWidget(self.body, 1)
        document.sig_structure_changed.connect(self.rebuild)
        document.sig_runs_changed.connect(self.refresh)
        document.sig_rating_changed.connect(self.on_rating_changed)
        document.sig_path_changed.connect(self.load_layout)
        selection.sig_changed.connect(self.rebuild)
        controller.sig_cell_queued.connect(self.on_cell_queued)
        controller.sig_cell_started.connect(self.on_cell_started)
        controller.sig_cell_text.connect(self.on_cell_text)
        controller.sig_cell_ended.connect(self.on_cell_ended)
        controller.sig_busy_changed.connect(self.on_busy_changed)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self.load_layout()

    # -- layout ------------------------------------------------------------------------------------

    def load_layout(self) -> None:
        """This person's layout for the open file (grouping, hidden columns, fit), else the default."""
        stored = self.state.per_file(LAYOUT_SECTION, self.document.path) if self.state else None
        self.layout_prefs = GridLayout.from_json(stored)
        self.controls.show_layout(self.layout_prefs)
        self.rebuild()

    def set_layout(self, prefs: GridLayout) -> None:
        """Apply a new layout and remember it for this file."""
        self.layout_prefs = prefs
        if self.state is not None:
            self.state.set_per_file(LAYOUT_SECTION, self.document.path, prefs.to_json())
        self.controls.show_layout(prefs)
        self.rebuild()
        self._cell_width = 0  # fit or fixed may have changed: size every column again
        self._fit_columns()

    def all_columns(self) -> list[tuple[str, str]]:
        """Every column the ticks allow, hidden ones included, in the layout's order."""
        proto = self.document.proto
        everything = GridLayout(group_by=self.layout_prefs.group_by)
        shown = self.selection.shown
        return everything.columns(shown(proto, "profiles"), shown(proto, "models"))

    def hide_column(self, column: tuple[str, str], hidden: bool = True) -> None:
        prefs = GridLayout.from_json(self.layout_prefs.to_json())
        if hidden:
            prefs.hidden.add(column)
        else:
            prefs.hidden.discard(column)
        self.set_layout(prefs)

    def rebuild(self) -> None:
        proto = self.document.proto
        columns = self.layout_prefs.columns(
            self.selection.shown(proto, "profiles"), self.selection.shown(proto, "models")
        )
        rows = self.selection.shown(proto, "cases")
        same_groups = self._group_by == self.layout_prefs.group_by
        if columns == self._columns and rows == self._rows and self.cells and same_groups:
            self.refresh_labels()
            self.refresh()
            return
        self._columns, self._rows, self._group_by = columns, rows, self.layout_prefs.group_by
        focused = next((k for k, c in self.cells.items() if c.hasFocus()), None)
        self.canvas = QWidget()
        self.canvas.installEventFilter(self)
        self.case_canvas = QWidget()
        self.corner.setParent(self.case_canvas)
        self.cells = {}
        self._shown = {}
        self._order = []
        self._grid = QGridLayout(self.canvas)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(4)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        problem = self._empty_reason(proto, columns, rows)
        if not problem and not columns:
            problem = "Every column is hidden. Show them again from Columns ▾ above."
        self.empty.setText(problem or "")
        self.empty.setVisible(bool(problem))
        self.body.setVisible(not problem)
        self._headers = []
        self._group_labels = []
        self._cell_width = CELL_WIDTH
        self._row_boxes = []
        self._row_labels = []
        self._row_thumbs: dict[str, ThumbnailStrip] = {}
        self._row_stops = []
        self._continue_boxes: list[_ContinueBox] = []
        self._gaps = 0
        if not problem:
            self._build(proto, columns, rows)
        self.scroll_area.setWidget(self.canvas)  # deletes the previous canvas and its cells
        self.case_column.setWidget(self.case_canvas)
        self.controls.show_columns(self)
        self.refresh()
        self._place_case_column()
        self._set_tab_order()
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
        if not rows:
            return "Tick at least one case on the left: each case becomes a row."
        return ""

    def _build(self, proto: Prototype, columns: list[tuple[str, str]], rows: list[str]) -> None:
        if not columns:
            return
        groups = self.layout_prefs.groups(columns)
        # a narrow empty grid column between groups, so where one profile (or model) ends shows
        self._grid_col = [index + sum(1 for _g, first, _s in groups[1:] if first <= index)
                          for index in range(len(columns))]
        for _group_id, first, _span in groups[1:]:
            self._grid.setColumnMinimumWidth(self._grid_col[first] - 1, GROUP_GAP)
        self._gaps = len(groups) - 1
        for group_id, first, span in groups:
            group = QLabel()
            group.setObjectName("column-group")
            group.setProperty("group", group_id)
            group.setTextFormat(Qt.TextFormat.RichText)
            group.setStyleSheet("border-bottom: 2px solid palette(mid); padding: 2px 0;")
            self._group_labels.append(group)
            self._grid.addWidget(group, 0, self._grid_col[first], 1, span)
        for col, (profile_id, model_id) in enumerate(columns):
            header = QLabel()
            header.setObjectName("column-header")
            header.setFixedWidth(CELL_WIDTH)
            header.setWordWrap(True)
            header.setProperty("variant", (profile_id, model_id))
            header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            header.customContextMenuRequested.connect(
                lambda pos, h=header, c=(profile_id, model_id): self._header_menu(h, c, pos)
            )
            self._headers.append(header)
            self._grid.addWidget(header, 1, self._grid_col[col])
        for index, case_id in enumerate(rows):
            grid_row = 2 + index * 2
            self._row_boxes.append(self._row_header(case_id))
            row_cells: list[CellWidget] = []
            for col, (profile_id, model_id) in enumerate(columns):
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
                cell.sig_timeout.connect(lambda m=model_id: self.edit_timeout(m))
                cell.sig_sample.connect(lambda step, k=key: self.page_sample(k, step))
                cell.sig_samples.connect(lambda n, k=key: self.sig_samples_requested.emit(k, n))
                cell.sig_request.connect(lambda k=key: self.show_request(k))
                self.cells[key] = cell
                row_cells.append(cell)
                self._grid.addWidget(cell, grid_row, self._grid_col[col])
            self._order.append(row_cells)
            follow = _ContinueBox(self, case_id)
            self._continue_boxes.append(follow)
            self._grid.addWidget(follow, grid_row + 1, 0, 1, self._grid_col[-1] + 1)
        # a grid shorter than the view keeps its rows together at the top: the spare height goes to
        # an empty last row, not into tall gaps around the headers (a new file's single cell)
        self._grid.setRowStretch(2 + len(rows) * 2, 1)
        self.refresh_labels()
        self._fit_columns()

    def _set_tab_order(self) -> None:
        """Tab follows reading order: a row's buttons, then that row's cells left to right (each with
        its note and tags), then its continue box; then the next row. The row buttons live in the
        frozen case column (another scroll area), so without this Tab reached them after every cell."""
        chain: list[QWidget] = [w for w in _subtree_chain(self.controls) if w.isVisibleTo(self)][-1:]
        for box, row, follow in zip(self._row_boxes, self._order, self._continue_boxes, strict=False):
            chain += _subtree_chain(box)
            for cell in row:
                chain += [cell, *_subtree_chain(cell)]
            chain += _subtree_chain(follow)
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _header_menu(self, header: QLabel, column: tuple[str, str], pos: QPoint) -> None:
        menu = QMenu(header)
        hide = menu.addAction("Hide this column")
        hide.triggered.connect(lambda: self.hide_column(column))
        show_all = menu.addAction("Show every column")
        show_all.setEnabled(bool(self.layout_prefs.hidden))
        show_all.triggered.connect(self.show_all_columns)
        menu.popup(header.mapToGlobal(pos))

    def show_all_columns(self) -> None:
        prefs = GridLayout.from_json(self.layout_prefs.to_json())
        prefs.hidden.clear()
        self.set_layout(prefs)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            QTimer.singleShot(0, self._place_case_column)  # after the grid layout has placed the cells
        elif watched is self.scroll_area.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()  # e.g. the vertical scroll bar came or went
        return super().eventFilter(watched, event)

    def _place_case_column(self) -> None:
        """Line each case's text up with its row of cells, in the frozen column on the left."""
        if not self._order or not self._row_boxes:
            return
        first_row_top = self._order[0][0].y()
        self.corner.setGeometry(0, 0, ROW_HEADER_WIDTH, max(20, first_row_top - 4))
        self.corner.setAlignment(Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft)
        for box, row in zip(self._row_boxes, self._order, strict=False):
            box.setGeometry(0, row[0].y(), ROW_HEADER_WIDTH, row[0].height())
            box.show()
        extra = self.scroll_area.horizontalScrollBar().sizeHint().height()
        self.case_canvas.setFixedSize(ROW_HEADER_WIDTH, self.canvas.height() + extra)
        self.case_column.verticalScrollBar().setValue(self.scroll_area.verticalScrollBar().value())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Fit: the columns share the visible width (never below MIN_FIT_WIDTH). Fixed: CELL_WIDTH."""
        if not self._columns or not self.cells:
            return
        spacing = self._grid.horizontalSpacing()
        margins = self._grid.contentsMargins()
        gaps = self._gaps
        room = (self.scroll_area.viewport().width() - margins.left() - margins.right()
                - spacing * (len(self._columns) - 1 + 2 * gaps) - gaps * GROUP_GAP - 2)
        width = column_width(
            room, len(self._columns), fit=self.layout_prefs.fit, fixed=CELL_WIDTH, maximum=FIT_MAX_WIDTH
        )
        if width == self._cell_width:
            return
        self._cell_width = width
        for header in self._headers:
            header.setFixedWidth(width)
        for cell in self.cells.values():
            cell.setFixedSize(width, CELL_HEIGHT)

    def _row_header(self, case_id: str) -> QWidget:
        box = QWidget(self.case_canvas)
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
            button.setAccessibleName(tip)
            button.setAutoRaise(True)
            button.setObjectName(f"row-{name}")
            button.setStyleSheet(ROW_BUTTON_FOCUS)
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
        return box

    def refresh_labels(self) -> None:
        proto = self.document.proto
        for key, cell in self.cells.items():
            try:
                cell.model_label = label(proto.model(key[2]))  # a renamed target shows at once
                cell.set_preview_context(preview_context(proto, key[1]))
            except KeyError:
                continue
        by_profile = self._group_by == "profile"
        for group in self._group_labels:
            group_id = group.property("group")
            try:
                item = proto.profile(group_id) if by_profile else proto.model(group_id)
            except KeyError:
                continue
            kind = "Profile" if by_profile else "Model"
            group.setText(f"<span style='color:gray'>{kind}</span> <b>{_html(item.label)}</b>")
        for header in self._headers:
            profile_id, model_id = header.property("variant")
            try:
                profile, model = proto.profile(profile_id), proto.model(model_id)
            except KeyError:
                continue
            if by_profile:  # the group row names the profile: the header leads with the model
                header.setText(
                    f"<b>{_html(model.label)}</b><br><span style='color:gray'>{_html(model.model)}"
                    f" · {_html(profile.label)}</span>"
                )
            else:
                header.setText(
                    f"<b>{_html(profile.label)}</b><br><span style='color:gray'>{_html(model.label)}"
                    f" · {_html(model.model)}</span>"
                )
            header.setToolTip(plain_tip(
                f"{profile.description or profile.label}\n\nRight-click to hide this column."
            ))
        for text in self._row_labels:
            case_id = text.property("case")
            try:
                case = proto.case(case_id)
            except KeyError:
                continue
            turns = "\n".join(
                f"{'You' if t.role == 'user' else 'Assistant'}: {render_vars(t.content, case.vars)}"
                for t in case.turns  # as the cells send it: "{{cat_name}}" read as a bug
            ) or case_label_text(case)  # no fixed turn: who the simulated user is
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

    def samples_of(self) -> dict[CellKey, dict[int, CellState]]:
        """Every sample's state per (case, profile, model)."""
        found: dict[CellKey, dict[int, CellState]] = {}
        for key, state in self.document.cell_states().items():
            found.setdefault(key[:3], {})[key[3]] = state
        return found

    def state_of(self, key: CellKey) -> CellState | None:
        """The state of the sample the cell shows."""
        cell = self.cells.get(key)
        return self.document.cell_states().get((*key, cell.sample if cell is not None else 0))

    def refresh(self) -> None:
        """Show every cell's current thread (from the core), except cells that are streaming right now."""
        samples = self.samples_of()
        for key, cell in self.cells.items():
            if cell.streaming or self.controller.is_running(key):
                continue
            by_sample = samples.get(key, {})
            self._show(cell, by_sample.get(cell.sample), by_sample)

    def _show(self, cell: CellWidget, state: CellState | None,
              by_sample: dict[int, CellState] | None = None, *, lazy: bool = False) -> None:
        """Show the core's state of the cell; skipped when the cell already shows exactly that.

        `lazy`: the cell just finished streaming (see `CellWidget.show_thread`)."""
        by_sample = by_sample or {}
        count = max(len(by_sample), cell.sample + 1)
        currents = [s.current for _i, s in sorted(by_sample.items()) if s.current is not None]
        found = variation(currents)
        words = found.words() if found is not None else ""
        pager = (cell.sample, count, words)
        shown = None if state is None else (
            tuple(r.id for r in state.thread), state.stale, state.position, len(state.answers),
            cell.model_label, pager,
        )
        cell.pager.show_position(*pager)
        if shown is not None and self._shown.get(cell.key) == shown:
            return
        self._shown[cell.key] = shown
        if state is None:
            cell.show_thread([])
            return
        cell.show_thread(state.thread, stale=state.stale, position=state.position, count=len(state.answers),
                         lazy=lazy)

    def page_sample(self, key: CellKey, step: int) -> None:
        """Show the cell's previous (-1) or next (+1) sample."""
        cell = self.cells.get(key)
        if cell is None or cell.streaming:
            return
        by_sample = self.samples_of().get(key, {})
        index = cell.sample + step
        if 0 <= index < max(len(by_sample), 1):
            cell.sample = index
            self._shown.pop(key, None)
            self._show(cell, by_sample.get(index), by_sample)

    def show_request(self, key: CellKey) -> None:
        """The exact request behind the answer the cell shows (messages, params, endpoint, timings)."""
        from app.ui.request_view import RequestDialog

        cell = self.cells.get(key)
        if cell is None or cell.run is None:
            return
        self.request_dialog = RequestDialog(self.document, cell.run, self)
        self.request_dialog.show()

    def thread_for(self, key: CellKey) -> list[Run]:
        state = self.states().get(key)
        return list(state.thread) if state is not None else []

    def pick_answer(self, key: CellKey, step: int) -> None:
        """Show the cell's previous (-1) or next (+1) answer; the newest is the default again."""
        state = self.state_of(key)
        if state is None or state.position == 0:
            return
        index = state.position - 1 + step
        if 0 <= index < len(state.answers):
            self.document.choose_answer(state.key, state.answers[index].id)

    def _widget_for(self, cell: Cell) -> CellWidget | None:
        """The widget showing this cell's sample (samples it does not show only update its pager)."""
        widget = self.cells.get(key_of(cell))
        if widget is not None and cell.sample == 0 and widget.sample != 0 and not widget.streaming:
            widget.sample = 0  # a new run: follow its first sample
        return widget if widget is not None and widget.sample == cell.sample else None

    def on_cell_queued(self, cell: Cell) -> None:
        key = key_of(cell)
        widget = self._widget_for(cell)
        if widget is not None:
            self._shown.pop(key, None)
        if widget is not None and not widget.streaming:
            widget.turn_words = self.controller.turn_words(key)
            follow_up = self.controller.continuation_of(key)
            widget.show_queued(self.thread_for(key) if follow_up is not None else None, follow_up,
                               self.controller.follow_up_source(key))

    def on_cell_started(self, cell: Cell, cached: bool) -> None:
        key = key_of(cell)
        widget = self._widget_for(cell)
        if widget is not None:
            self._shown.pop(key, None)
            widget.turn_words = self.controller.turn_words(key)
            follow_up = self.controller.continuation_of(key)
            widget.begin_stream(self.thread_for(key) if follow_up is not None else [], follow_up, cached,
                                self.controller.follow_up_source(key))

    def on_cell_text(self, cell: Cell, text: str) -> None:
        widget = self._widget_for(cell)
        if widget is not None:
            widget.append_text(text)

    def on_cell_ended(self, cell: Cell, run: Run) -> None:
        key = key_of(cell)
        widget = self.cells.get(key)
        if widget is None:
            return
        if widget.sample == cell.sample:
            self.document.choose_answer((*key, cell.sample), None)  # a new answer: show the current one
        if widget.streaming and widget.sample != cell.sample:
            return  # another sample ended while the shown one streams: its pager catches up at the end
        by_sample = self.samples_of().get(key, {})
        self._show(widget, by_sample.get(widget.sample), by_sample, lazy=widget.sample == cell.sample)
        if widget.sample == cell.sample and by_sample.get(widget.sample) is None and run.status != "ok":
            widget.show_unstored_end(run)  # e.g. stopped while its request hung: not a blank cell
        if widget.sample == cell.sample and offers_new_sample(run, run.params):
            # the cache replayed a stored answer of a model that samples: offer a fresh draw
            widget.new_sample_button.show()

    def on_busy_changed(self, busy: bool) -> None:
        for button in self._row_stops:
            button.setEnabled(busy)
        if busy:
            self._ticker.start()
        else:
            self._ticker.stop()

    def _tick(self) -> None:
        """Once a second while running: queued and silent cells show how long they have waited."""
        for cell in self.cells.values():
            cell.tick()

    def edit_timeout(self, model_id: str) -> None:
        """From a cell whose error says to raise the timeout: edit that model's timeout there."""
        from app.ui.timeout_dialog import TimeoutDialog

        try:
            model = self.document.proto.model(model_id)
        except KeyError:
            return
        self.timeout_dialog = TimeoutDialog(self.document, model, self)
        self.timeout_dialog.open()

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


def _subtree_chain(root: QWidget) -> list[QWidget]:
    """The widgets under `root` that Tab stops at, in the order they were made (top to bottom, left
    to right in a row, a cell's note before its tags). Found with findChildren: walking the window's
    whole focus chain with nextInFocusChain() left a File menu wrapper deleted under PySide6."""
    window = root.window()  # not a combo box's popup list: a window of its own
    return [w for w in root.findChildren(QWidget)
            if w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.window() is window]


def _html(text: str) -> str:
    import html

    return html.escape(text)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
