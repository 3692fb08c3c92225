"""The grid's team strip: whose ratings the cells show, and "Next unrated" (key U) to split the work.

Who has rated what is answered by `app.core.ratings`; this widget only chooses and moves focus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from app.core.ratings import next_unrated, raters
from app.ui.document_model import Document

if TYPE_CHECKING:
    from app.ui.cell_widget import CellWidget

EVERYONE = "Everyone (edit mine)"


class TeamBar(QWidget):
    """A rater filter for the cells and a button (and the U key) that jumps to your next unrated answer."""

    def __init__(self, document: Document, grid: QWidget) -> None:
        super().__init__(grid)
        self.document = document
        self.grid = grid
        self.setObjectName("team-bar")
        self.you = QLabel()
        self.you.setObjectName("team-you")
        self.you.setTextFormat(Qt.TextFormat.PlainText)
        self.you.setStyleSheet("color: palette(mid);")
        self.filter = QComboBox()
        self.filter.setObjectName("rater-filter")
        self.filter.setToolTip("Show everyone's split and edit your own rating, or see one rater's ratings")
        self.filter.currentIndexChanged.connect(self.on_filter_changed)
        self.next_button = QPushButton("Next unrated (U)")
        self.next_button.setObjectName("next-unrated")
        self.next_button.setToolTip("Jump to the next answer you have not given a thumb yet")
        self.next_button.clicked.connect(self.go_next_unrated)
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_U), grid)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.setWhatsThis("Jump to the next answer you have not rated yet")
        shortcut.setProperty("keysArea", "Grid")
        shortcut.activated.connect(self.go_next_unrated)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(QLabel("Ratings:"))
        layout.addWidget(self.filter)
        layout.addWidget(self.next_button)
        layout.addStretch(1)
        layout.addWidget(self.you)
        document.sig_rater_changed.connect(self.reload)
        document.sig_rating_changed.connect(lambda _run_id: self.reload())
        document.sig_preferences_changed.connect(self.reload)
        document.sig_path_changed.connect(self.reload)
        self.reload()

    def shown_rater(self) -> str | None:
        """The rater whose ratings the cells show; None: your own, editable, with everyone's split."""
        data = self.filter.currentData()
        return data if isinstance(data, str) else None

    def reload(self) -> None:
        """Refill the rater list (keeping the choice) and say who you rate as."""
        me = self.document.rater
        self.you.setText(f"You rate as {me}")
        wanted = self.shown_rater()
        names = [n for n in raters(self.document.proto) if n != me]
        current = [self.filter.itemData(i) for i in range(self.filter.count())]
        if current != [None, *names]:
            self.filter.blockSignals(True)
            self.filter.clear()
            self.filter.addItem(EVERYONE, None)
            for name in names:
                self.filter.addItem(f"Only {name} (read-only)", name)
            index = self.filter.findData(wanted) if wanted is not None else 0
            self.filter.setCurrentIndex(max(0, index))
            self.filter.blockSignals(False)
        self.apply_to_cells()

    def on_filter_changed(self, _index: int) -> None:
        self.apply_to_cells()

    def apply_to_cells(self) -> None:
        for cell in self.grid_cells():
            self.configure(cell)
            cell.show_rating()

    def configure(self, cell: CellWidget) -> None:
        shown = self.shown_rater()
        cell.rater = shown if shown is not None else self.document.rater
        cell.editable = shown is None

    def grid_cells(self) -> list[CellWidget]:
        cells: list[CellWidget] = getattr(self.grid, "cells_in_order", list)()
        return cells

    def go_next_unrated(self) -> None:
        """Focus the next answer (row by row, after the focused one) that you have not given a thumb."""
        cells = [c for c in self.grid_cells() if c.run is not None and not c.streaming]
        by_run = {c.run.id: c for c in cells if c.run is not None}
        focus = QApplication.focusWidget()
        focused = next((c for c in cells if focus is not None and (c is focus or c.isAncestorOf(focus))),
                       None)
        after = focused.run.id if focused is not None and focused.run is not None else None
        target = next_unrated([c.run for c in cells if c.run is not None], self.document.rater, after)
        message = getattr(self.grid, "sig_message", None)
        if target is None:
            if message is not None:
                message.emit("You have rated every answer in the grid.")
            return
        cell = by_run[target.id]
        cell.setFocus(Qt.FocusReason.ShortcutFocusReason)
        scroll = getattr(self.grid, "scroll_area", None)
        if scroll is not None:
            scroll.ensureWidgetVisible(cell, 20, 20)
