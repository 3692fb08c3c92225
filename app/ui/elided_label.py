"""A one-line label that ends in "…" when its space is too narrow (a grid cell at 4+ columns), with the
whole text on hover: nothing is clipped mid-word, and nothing is lost."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.ui.plain import plain_tip


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when its column is too narrow, and shows the full text on hover.

    `text()` keeps the whole line; only the painting is shortened, so nothing is clipped mid-word.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)  # server error text must never render as HTML
        self.setText(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(plain_tip(text))

    def shown_text(self) -> str:
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, width)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            self.shown_text(),
            self.foregroundRole(),
        )


def elided_label(name: str, style: str = "") -> ElidedLabel:
    """An `ElidedLabel` that may shrink to nothing in a layout (its minimum width is 0)."""
    label = ElidedLabel()
    label.setObjectName(name)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    if style:
        label.setStyleSheet(style)
    return label
