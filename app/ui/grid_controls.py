"""The strip above the compare grid: group columns by profile or by model, fit them to the width or
keep fixed widths and scroll, and hide or show single columns.

It only edits a `GridLayout` and hands it to the grid, which remembers it per user and file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSpinBox,
    QToolButton,
    QWidget,
)

from app.core.samples import MAX_SAMPLES
from app.core.structure import label
from app.ui.grid_layout import GridLayout

if TYPE_CHECKING:
    from app.ui.compare_grid import CompareGrid


class GridControls(QWidget):
    def __init__(self, grid: CompareGrid) -> None:
        super().__init__(grid)
        self.grid = grid
        self.group_by = QComboBox()
        self.group_by.setObjectName("grid-group-by")
        self.group_by.addItem("Group by model", "model")
        self.group_by.addItem("Group by profile", "profile")
        self.group_by.setToolTip(
            "Put one model's profiles side by side, or one profile's models side by side"
        )
        self.fit = QCheckBox("Fit to width")
        self.fit.setObjectName("grid-fit")
        self.fit.setToolTip(
            "On: every shown column shares the width and the text wraps.\n"
            "Off: columns keep a fixed width and the grid scrolls sideways."
        )
        self.columns = QToolButton()
        self.columns.setObjectName("grid-columns")
        self.columns.setText("Columns ▾")
        self.columns.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns.setToolTip("Hide or show single columns (right-click a column's header too)")
        self.menu = QMenu(self.columns)
        self.columns.setMenu(self.menu)
        self.samples = QSpinBox()
        self.samples.setObjectName("grid-samples")
        self.samples.setRange(1, MAX_SAMPLES)
        self.samples.setPrefix("Samples: ")
        self.samples.setToolTip(
            "How many answers Run draws per cell. A cell pages through them (sample 2 of 5) and says "
            "how much they vary. Right-click a cell to sample just that one."
        )
        self.hidden_note = QLabel()
        self.hidden_note.setObjectName("grid-hidden-note")
        self.hidden_note.setStyleSheet("color: palette(mid);")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.group_by)
        layout.addWidget(self.fit)
        layout.addWidget(self.columns)
        layout.addWidget(self.samples)
        layout.addWidget(self.hidden_note)
        layout.addStretch(1)
        self.group_by.currentIndexChanged.connect(self._on_group_by)
        self.fit.toggled.connect(self._on_fit)
        self.samples.valueChanged.connect(self._on_samples)

    def show_layout(self, prefs: GridLayout) -> None:
        with QSignalBlocker(self.group_by), QSignalBlocker(self.fit), QSignalBlocker(self.samples):
            self.group_by.setCurrentIndex(1 if prefs.group_by == "profile" else 0)
            self.fit.setChecked(prefs.fit)
            self.samples.setValue(prefs.samples)

    def show_columns(self, grid: CompareGrid) -> None:
        """Rebuild the Columns menu: one tickable entry per column the ticks on the left allow."""
        self.menu.clear()
        proto = grid.document.proto
        hidden = grid.layout_prefs.hidden
        everything = grid.all_columns()
        for profile_id, model_id in everything:
            try:
                text = f"{proto.profile(profile_id).label} · {label(proto.model(model_id))}"
            except KeyError:
                continue
            action = self.menu.addAction(text)
            action.setCheckable(True)
            action.setChecked((profile_id, model_id) not in hidden)
            action.toggled.connect(
                lambda on, c=(profile_id, model_id): grid.hide_column(c, hidden=not on)
            )
        self.menu.addSeparator()
        show_all = self.menu.addAction("Show every column")
        show_all.setEnabled(bool(hidden))
        show_all.triggered.connect(grid.show_all_columns)
        count = sum(1 for c in everything if c in hidden)
        self.hidden_note.setText(f"{count} hidden" if count else "")

    def _prefs(self) -> GridLayout:
        return GridLayout.from_json(self.grid.layout_prefs.to_json())

    def _on_group_by(self) -> None:
        prefs = self._prefs()
        prefs.group_by = "profile" if self.group_by.currentData() == "profile" else "model"
        self.grid.set_layout(prefs)

    def _on_samples(self, count: int) -> None:
        prefs = self._prefs()
        prefs.samples = count
        self.grid.set_layout(prefs)

    def _on_fit(self, on: bool) -> None:
        prefs = self._prefs()
        prefs.fit = on
        self.grid.set_layout(prefs)
