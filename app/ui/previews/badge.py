"""A small coloured pill for a yes/no signal a designer rates (e.g. "Canvas opened")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

GOOD = "#1e7d3a", "#d9f2df"
NEUTRAL = "#5f6368", "#e8eaed"
WARN = "#8a5300", "#fdecc8"


class Badge(QLabel):
    """Plain text only: a badge may quote a model-chosen title."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def show_state(self, text: str, colours: tuple[str, str], tip: str = "") -> None:
        fg, bg = colours
        self.setText(text)
        self.setToolTip(tip)
        self.setStyleSheet(
            f"QLabel {{ color: {fg}; background: {bg}; border-radius: 7px; padding: 1px 7px;"
            " font-size: 8pt; }"
        )
