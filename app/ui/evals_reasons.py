"""The Evals tab's failure reasons: a scrollable, filterable, sortable table (case, variant, check,
reason) instead of one block of text that grew the window past the screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.evals.reasons import ReasonRow, reason_rows
from app.core.prototype import EvalRun, Prototype
from app.ui.evals_results import HintTable
from app.ui.plain import plain_tip

HEADERS = ("Case", "Variant", "Check", "Reason")
NO_RUN_HINT = "No eval run yet: the reasons of failed checks show here after Run evals."
NO_FAILURES_HINT = "No failed checks in the latest eval run."


class ReasonsTable(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ReasonRow] = []
        self.filter = QLineEdit()
        self.filter.setObjectName("reasons-filter")
        self.filter.setPlaceholderText("Filter reasons: words from the case, variant, check or reason")
        self.filter.setClearButtonEnabled(True)
        self.count = QLabel()
        self.count.setObjectName("reasons-count")
        self.table = HintTable(0, len(HEADERS))
        self.table.setObjectName("reasons-table")
        self.table.empty_hint = NO_RUN_HINT
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for col in range(3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 160)
        self.table.setColumnWidth(1, 200)
        self.table.setColumnWidth(2, 200)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the run's order until a header is clicked
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("<b>Why checks failed</b>"))
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.filter.textChanged.connect(self._fill)

    def show_run(self, proto: Prototype, run: EvalRun | None) -> None:
        self.rows = reason_rows(proto, run) if run is not None else []
        # before any eval run "no failed checks" read as "everything passed"
        self.table.empty_hint = NO_RUN_HINT if run is None else NO_FAILURES_HINT
        self.table.viewport().update()
        self._fill()

    def shown_rows(self) -> list[ReasonRow]:
        needle = self.filter.text().strip()
        return [r for r in self.rows if r.matches(needle)] if needle else list(self.rows)

    def _fill(self) -> None:
        rows = self.shown_rows()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            for col, text in enumerate((row.case, row.variant, row.check, row.reason)):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setToolTip(plain_tip(text))  # reasons quote model output: never rich text
                self.table.setItem(index, col, item)
        self.table.setSortingEnabled(True)
        total = len(self.rows)
        if not total and self.table.empty_hint == NO_RUN_HINT:
            self.count.setText("")  # "0 failed" before any run said the same wrong thing
        else:
            self.count.setText(f"{len(rows)} of {total}" if len(rows) != total else f"{total} failed")
