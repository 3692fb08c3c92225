"""The chat preview: the thread as bubbles, the user's on the right, the assistant's rendered markdown.

One `SafeTextBrowser` holds every bubble (a text frame each) instead of a widget per message:
a grid shows dozens of cells, and one document per cell lays out and scrolls cheaply. Nothing is
fetched: images in text become `[image: alt]`, HTML stays text, and the browser refuses every resource.
A user turn's attached images (a case's photo) show as thumbnails in its bubble: read from the
local file off the GUI thread, then added to the document as in-memory resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFrame,
    QTextFrameFormat,
    QTextImageFormat,
    QTextLength,
)
from PySide6.QtWidgets import QWidget

from app.core.image_refs import resolve_image
from app.core.prototype import ImageRef
from app.ui.jobs import Job
from app.ui.markdown_budget import PREVIEW_BUDGET_US, within_budget
from app.ui.markdown_view import MARKDOWN_FEATURES, SafeTextBrowser, clip, strip_images
from app.ui.previews.context import ChatTurn
from app.ui.previews.thumbnails import read_thumbnail

PREVIEW_LIMIT = 10_000
"""Characters of one message laid out in a bubble. A bubble is laid out at once (a text frame, unlike
the text view's lazy layout): ~3 ms per 1,000 characters (bench/bench_previews.py), so a 60 KB
answer would stall the GUI; the text view (`r`) shows up to `markdown_view.RENDER_LIMIT`."""

PREVIEW_CUT_NOTE = ("… (more tables or formatting follow than a cell lays out quickly: press r for the "
                    "text view; the full answer is saved)")

BUBBLE_INDENT = 36
"""Pixels a bubble leaves free on the other side, so the two speakers read as two columns."""
BUBBLE_THUMB = 72
"""Pixels of an attached image's longer side in a bubble: recognisable in a 190 px column."""
_THUMB_CACHE_SIZE = 64
_thumbs: dict[tuple[str, str | None], QImage | str] = {}
"""(file, sha256) -> its bubble thumbnail, or why it could not be read: every column of a case shows
the same photo, so it is read once, not once per cell."""


class ChatPreview(SafeTextBrowser):
    """A thread as chat bubbles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview-chat")
        self._turns: list[ChatTurn] = []
        self._folder: str | None = None
        self._generation = 0
        self.image_names: list[str] = []
        """The attached images shown as thumbnails, in order (tests and accessibility)."""

    def show_turns(self, turns: Sequence[ChatTurn], folder: str | None = None) -> None:
        """Lay out turns as bubbles: user text as typed (with its mark, e.g. "Simulated user:") and
        its images, assistant text as markdown. `folder`: where image paths start."""
        self._turns, self._folder = list(turns), folder
        self._generation += 1
        self.image_names = []
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
                for ref in turn.images:
                    self._insert_image(cursor, ref, folder)
            else:
                cursor.insertFragment(_markdown_fragment(text or "(no text)"))
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def _insert_image(self, cursor: QTextCursor, ref: ImageRef, folder: str | None) -> None:
        """The image's thumbnail on its own line in the bubble; while it is read, or when it cannot
        be, its name in brackets (with why), so the bubble never pretends there was no image."""
        path = resolve_image(ref, Path(folder) if folder else None)
        key = (str(path), ref.sha256)
        found = _thumbs.get(key)
        cursor.insertText("\n", QTextCharFormat())
        if isinstance(found, QImage):
            url = QUrl(f"protostudio-thumb:{len(self.image_names)}")
            self.document().addResource(QTextDocument.ResourceType.ImageResource, url, found)
            image = QTextImageFormat()
            image.setName(url.toString())
            image.setToolTip(ref.path)
            cursor.insertImage(image)
            self.image_names.append(ref.path)
            return
        note = QTextCharFormat()
        note.setFontItalic(True)
        note.setToolTip(found or ref.path)
        cursor.insertText(f"[image: {Path(ref.path).name}{' (missing)' if found else ''}]", note)
        if found is None:
            generation = self._generation
            (
                Job(lambda: read_thumbnail(path, BUBBLE_THUMB))
                .owned_by(self)
                .success(lambda img: self._thumb_read(key, img, generation))
                .failure(lambda exc: self._thumb_read(key, str(exc), generation))
                .start()
            )

    def _thumb_read(self, key: tuple[str, str | None], found: QImage | str, generation: int) -> None:
        if len(_thumbs) >= _THUMB_CACHE_SIZE:
            _thumbs.pop(next(iter(_thumbs)))
        _thumbs[key] = found
        if generation == self._generation:  # still showing the same turns: show them with the image
            self.show_turns(self._turns, self._folder)

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
    shown = within_budget(strip_images(clip(text, PREVIEW_LIMIT)), PREVIEW_BUDGET_US, PREVIEW_CUT_NOTE).text
    scratch.setMarkdown(shown, MARKDOWN_FEATURES)
    return QTextDocumentFragment(scratch)


def _mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`a` moved `amount` (0..1) of the way to `b`: bubble colours that follow light and dark themes."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * amount),
        round(a.green() + (b.green() - a.green()) * amount),
        round(a.blue() + (b.blue() - a.blue()) * amount),
    )
