"""The canvas preview: the chat reply beside a document panel holding the artefact.

The artefact comes from the core (`canvas_document`): the `open_canvas` call's content, edited by
later `update_canvas` calls, or the text after a `[canvas: title]` marker. The badge says whether
a canvas opened and how, the signal a designer rates and `canvas-opened` checks.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent, QTextCursor
from PySide6.QtWidgets import QBoxLayout, QFrame, QLabel, QVBoxLayout, QWidget

from app.core.formfactors.canvas_document import CanvasDocument
from app.ui.markdown_view import SafeTextBrowser
from app.ui.previews.badge import GOOD, NEUTRAL, WARN, Badge

SIDE_BY_SIDE_WIDTH = 420
"""Below this width the document panel goes under the chat reply instead of beside it."""
NO_CANVAS = "No canvas opened: the whole answer stays in the chat."


class CanvasPreview(QWidget):
    """Badge on top; chat reply and document panel side by side (stacked in a narrow cell)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview-canvas")
        self.badge = Badge(self)
        self.badge.setObjectName("canvas-badge")
        self.chat = SafeTextBrowser(self)
        self.chat.setObjectName("canvas-chat")
        self.chat.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.panel = QFrame(self)
        self.panel.setObjectName("canvas-panel")
        self.panel.setFrameShape(QFrame.Shape.StyledPanel)
        self.panel.setStyleSheet(
            "QFrame#canvas-panel { border: 1px solid palette(mid); border-radius: 4px; }"
        )
        self.title = QLabel(self.panel)
        self.title.setObjectName("canvas-title")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold;")
        self.content = SafeTextBrowser(self.panel)
        self.content.setObjectName("canvas-content")
        self.content.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.content.setFrameShape(QFrame.Shape.NoFrame)
        self.empty = QLabel(NO_CANVAS, self.panel)
        self.empty.setObjectName("canvas-empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: palette(mid);")
        panel_layout = QVBoxLayout(self.panel)
        panel_layout.setContentsMargins(4, 4, 4, 4)
        panel_layout.setSpacing(2)
        panel_layout.addWidget(self.title)
        panel_layout.addWidget(self.content, 1)
        panel_layout.addWidget(self.empty, 1)
        self.split = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.split.setSpacing(4)
        self.split.addWidget(self.chat, 1)
        self.split.addWidget(self.panel, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(self.split, 1)

    def show_document(self, doc: CanvasDocument) -> None:
        if doc.opened:
            how = "by an open_canvas call" if doc.via == "tool" else "by the [canvas: ] text marker"
            edits = f", updated {doc.updates}×" if doc.updates else ""
            self.badge.show_state(
                f"Canvas opened · {'tool' if doc.via == 'tool' else 'marker'}{edits}",
                WARN if doc.problem else GOOD,
                f"This reply opened a canvas {how}.{(' Problem: ' + doc.problem) if doc.problem else ''}",
            )
        else:
            self.badge.show_state("No canvas", NEUTRAL, NO_CANVAS)
        self.title.setText(doc.title or ("(untitled canvas)" if doc.opened else ""))
        empty = f"*({doc.problem})*" if doc.problem else "*(empty canvas)*"
        self.content.show_markdown(doc.content or empty)  # lazily laid out, like the text view
        self.content.moveCursor(QTextCursor.MoveOperation.Start)  # a new document reads from its top
        for widget in (self.title, self.content):
            widget.setVisible(doc.opened)
        self.empty.setVisible(not doc.opened)
        self.split.setStretch(1, 2 if doc.opened else 0)  # the document gets the room; no canvas: the chat
        chat = doc.chat.strip()
        self.chat.show_markdown(chat or "*(no chat text: the reply went to the canvas)*")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wide = event.size().width() >= SIDE_BY_SIDE_WIDTH
        self.split.setDirection(
            QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        )
