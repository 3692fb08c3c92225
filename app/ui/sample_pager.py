"""The "2 of 5" pager in a cell's header: which sample of the cell is shown, with how much the
samples vary (same first line or not, length range) on the label itself."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class SamplePager(QWidget):
    sig_step = Signal(int)
    """-1 / +1: show the previous / next sample."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sample-pager")
        self.back = self._arrow(Qt.ArrowType.LeftArrow, "Previous sample ([)", -1)
        self.next = self._arrow(Qt.ArrowType.RightArrow, "Next sample (])", 1)
        self.label = QLabel()
        self.label.setObjectName("sample-pager-label")
        self.label.setStyleSheet("color: palette(mid); font-size: 8pt;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.back)
        layout.addWidget(self.label)
        layout.addWidget(self.next)
        self.hide()

    def _arrow(self, arrow: Qt.ArrowType, tip: str, step: int) -> QToolButton:
        button = arrow_button(self, arrow, tip)
        button.clicked.connect(lambda: self.sig_step.emit(step))
        return button

    def show_position(self, index: int, count: int, variation: str = "") -> None:
        """`index` 0-based of `count` samples; hidden with a single sample."""
        self.setVisible(count > 1)
        self.label.setText(f"sample {index + 1} of {count}")
        self.label.setToolTip(variation or "How much the samples vary shows once two have answers")
        self.back.setEnabled(index > 0)
        self.next.setEnabled(index < count - 1)


def arrow_button(parent: QWidget, arrow: Qt.ArrowType, tip: str) -> QToolButton:
    """A flat arrow that pages within a cell; it takes no focus, so the keys keep acting on the cell."""
    button = QToolButton(parent)
    button.setArrowType(arrow)
    button.setToolTip(tip)
    button.setAccessibleName(tip)  # an arrow only: what a screen reader says
    button.setAutoRaise(True)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button
