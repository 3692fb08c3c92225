"""A message strip across the top of the window: errors and offers that must not block the screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

STYLES = {
    "error": "QFrame#message-bar { background: #fbe3e1; border: 1px solid #e4a29b; } "
    "QLabel { color: #5c1610; }",
    "info": "QFrame#message-bar { background: #e3eefb; border: 1px solid #9bb9e4; } "
    "QLabel { color: #10305c; }",
}


class MessageBar(QFrame):
    """Shows one message at a time, with optional action buttons; hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("message-bar")
        self.label = QLabel()
        self.label.setObjectName("message-text")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 4, 4)
        self._layout.addWidget(self.label, 1)
        self._buttons: list[QPushButton] = []
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismiss)
        self._layout.addWidget(close)
        self.kind = ""
        self.hide()

    def show_message(
        self, text: str, kind: str = "info", actions: list[tuple[str, Callable[[], None]]] | None = None
    ) -> None:
        self.kind = kind
        self.setStyleSheet(STYLES.get(kind, ""))
        self.label.setText(text)
        for button in self._buttons:
            button.setParent(None)
            button.deleteLater()
        self._buttons = []
        for index, (title, callback) in enumerate(actions or []):
            button = QPushButton(title)
            button.clicked.connect(lambda _checked=False, cb=callback: (self.dismiss(), cb()))
            self._layout.insertWidget(1 + index, button)
            self._buttons.append(button)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def dismiss(self) -> None:
        self.kind = ""
        self.hide()
