"""The chat preview: the thread as bubbles, the user's on the right, the assistant's rendered markdown.

One `SafeTextBrowser` holds every bubble (a text frame each) instead of a widget per message:
a grid shows dozens of cells, and one document per cell lays out and scrolls cheaply. Nothing is
fetched: images become `[image: alt]`, HTML stays text, and the browser refuses every resource.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import (
    QColor,
    QFont,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFrame,
    QTextFrameFormat,
    QTextLength,
)
from PySide6.QtWidgets import QWidget

from app.ui.markdown_view import MARKDOWN_FEATURES, SafeTextBrowser, clip, strip_images
from app.ui.previews.context import ChatTurn

PREVIEW_LIMIT = 10_000
"""Characters of one message laid out in a bubble. A bubble is laid out at once (a text frame, unlike
the text view's lazy layout): ~3 ms per 1,000 characters (bench/bench_previews.py), so a 60 KB
answer would stall the GUI; the text view (`r`) shows up to `markdown_view.RENDER_LIMIT`."""

BUBBLE_INDENT = 36
"""Pixels a bubble leaves free on the other side, so the two speakers read as two columns."""


class ChatPreview(SafeTextBrowser):
    """A thread as chat bubbles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview-chat")

    def show_turns(self, turns: Sequence[ChatTurn]) -> None:
        """Lay out turns as bubbles: user text as typed (with its mark, e.g. "Simulated user:"),
        assistant text as markdown."""
        document = self.document()
        document.clear()
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        user_bg = _mix(base, palette.color(QPalette.ColorRole.Highlight), 0.22)
        assistant_bg = _mix(base, palette.color(QPalette.ColorRole.Text), 0.07)
        first = True
        for turn in turns:
            user, end, text = turn.role == "user", turn.role == "end", turn.text
            frame = QTextFrameFormat()
            if not end:  # the end line has no bubble: it is about the conversation, no one said it
                frame.setBackground(user_bg if user else assistant_bg)
            frame.setPadding(6)
            frame.setBorder(0)
            frame.setBottomMargin(6)
            frame.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
            frame.setLeftMargin(BUBBLE_INDENT if user else 0)
            frame.setRightMargin(0 if user else BUBBLE_INDENT)
            cursor = QTextCursor(document) if first else document.rootFrame().lastCursorPosition()
            if first:
                cursor.movePosition(QTextCursor.MoveOperation.Start)
            first = False
            cursor.insertFrame(frame)
            if end:
                note = QTextCharFormat()
                note.setFontItalic(True)
                note.setForeground(palette.color(QPalette.ColorRole.PlaceholderText))
                cursor.insertText(clip(text, PREVIEW_LIMIT), note)
            elif user:
                if turn.mark:
                    bold = QTextCharFormat()
                    bold.setFontWeight(QFont.Weight.Bold)
                    cursor.insertText(f"{turn.mark}: ", bold)
                cursor.insertText(clip(text, PREVIEW_LIMIT) or " ", QTextCharFormat())
            else:
                cursor.insertFragment(_markdown_fragment(text or "(no text)"))
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def bubble_texts(self) -> list[str]:
        """The text of each bubble, in order (what a reader sees, for tests and accessibility)."""
        root = self.document().rootFrame()
        return [_frame_text(child) for child in root.childFrames()]


def _frame_text(frame: QTextFrame) -> str:
    cursor = frame.firstCursorPosition()
    cursor.setPosition(frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
    return cursor.selection().toPlainText()


def _markdown_fragment(text: str) -> QTextDocumentFragment:
    scratch = QTextDocument()
    scratch.setMarkdown(strip_images(clip(text, PREVIEW_LIMIT)), MARKDOWN_FEATURES)
    return QTextDocumentFragment(scratch)


def _mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`a` moved `amount` (0..1) of the way to `b`: bubble colours that follow light and dark themes."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * amount),
        round(a.green() + (b.green() - a.green()) * amount),
        round(a.blue() + (b.blue() - a.blue()) * amount),
    )
