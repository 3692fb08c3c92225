"""Safe, cheap rendering of model output: markdown that never fetches, and plain streaming appends.

Model output is untrusted. Raw HTML is not interpreted (Qt's `MarkdownNoHTML`), images are
replaced by their alt text before rendering, and `loadResource` returns nothing, so no file or
URL is ever read. Streaming appends plain text at the end (no re-layout of the whole answer);
the markdown is rendered once when the answer is complete. Very long answers are shown cut
at `RENDER_LIMIT` characters (the full text stays in the run).
"""

from __future__ import annotations

import re

from PySide6.QtCore import QUrl
from PySide6.QtGui import QShowEvent, QTextBlockFormat, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.ui.markdown_budget import TEXT_VIEW_BUDGET_US, within_budget

RENDER_LIMIT = 60_000
"""Characters of one answer shown in a cell; the rest is summarised, never laid out."""

LIVE_BLOCK_CHARS = 800
"""A streamed paragraph longer than this is cut into blocks where a line already wraps. Qt lays out a
whole block on every append: appending to one 20 KB paragraph took 28 ms, so 12 streaming columns
stalled the GUI for ~300 ms per drain (bench/bench_ui.py). Cut at a wrap, the text looks the same."""

MARKDOWN_FEATURES = QTextDocument.MarkdownFeature(
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub.value
    | QTextDocument.MarkdownFeature.MarkdownNoHTML.value
)

TEXT_VIEW_CUT_NOTE = ("… (the rest of this answer has more tables or formatting than can be laid out "
                      "quickly; the full answer is saved)")

_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_REF_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\[[^\]]*\]")


def strip_images(text: str) -> str:
    """Replace markdown images by `[image: alt]` so nothing is ever loaded for them."""
    text = _IMAGE_RE.sub(lambda m: f"[image: {m.group(1)}]", text)
    return _REF_IMAGE_RE.sub(lambda m: f"[image: {m.group(1)}]", text)


def clip(text: str, limit: int = RENDER_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n\n… (showing {limit:,} of {len(text):,} characters; the full answer is saved)"


class SafeTextBrowser(QTextBrowser):
    """A read-only text view that never loads a resource and never follows a link."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.document().setDocumentMargin(6)
        self._streamed = 0
        self._pending: str | None = None
        """Markdown to render when the view is next shown or read (`defer_markdown`)."""

    def loadResource(self, type: int, name: QUrl) -> object:
        """Refuse every resource: no images, no style sheets, local or remote."""
        return None

    # -- content -----------------------------------------------------------------------------------

    def show_markdown(self, text: str) -> None:
        self._streamed = 0
        self._pending = None
        shown = within_budget(strip_images(clip(text)), TEXT_VIEW_BUDGET_US, TEXT_VIEW_CUT_NOTE).text
        self.document().setMarkdown(shown, MARKDOWN_FEATURES)

    def defer_markdown(self, text: str) -> None:
        """Show `text` as markdown when the view is next shown or read, not now.

        A cell's text view mostly sits behind its preview; laying out a 20 KB answer there cost
        ~18 ms per finished cell for nothing. Until then the view keeps what it showed."""
        self._pending = text

    def has_pending_markdown(self) -> bool:
        return self._pending is not None

    def flush_markdown(self) -> None:
        """Render deferred markdown now (the view is about to be seen or read)."""
        if self._pending is not None:
            self.show_markdown(self._pending)

    def toPlainText(self) -> str:
        """The text as rendered: deferred markdown is rendered first, so a reader never sees stale text."""
        self.flush_markdown()
        return super().toPlainText()

    def clear(self) -> None:
        self._pending = None
        super().clear()

    def showEvent(self, event: QShowEvent) -> None:
        self.flush_markdown()
        super().showEvent(event)

    def begin_stream(self, prefix_markdown: str = "") -> None:
        """Start a streamed answer, after an already complete part of the thread when given."""
        self._streamed = 0
        self._pending = None
        if not prefix_markdown:
            self.clear()
            return
        self.show_markdown(prefix_markdown)
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())

    def append_stream(self, text: str) -> None:
        """Append plain text at the end; stop (with a note) past the render limit."""
        if self._streamed >= RENDER_LIMIT or not text:
            return
        room = RENDER_LIMIT - self._streamed
        chunk = text[:room]
        self._streamed += len(text)
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(chunk)
        _cut_long_block(cursor)
        if self._streamed >= RENDER_LIMIT:
            cursor.insertText("\n… (long answer: the rest streams in the background and is saved)")
        if at_bottom:
            bar.setValue(bar.maximum())


def _cut_long_block(cursor: QTextCursor) -> None:
    """End the cursor's block after its last complete line, when it grew past `LIVE_BLOCK_CHARS`.

    The cut goes where Qt already wrapped the line (after the space), so nothing moves on screen
    at the current width; only `toPlainText` of the live view gains a line break there. The
    finished answer is rendered from the run's text, never from this view."""
    block = cursor.block()
    if block.length() <= LIVE_BLOCK_CHARS:
        return
    layout = block.layout()
    if layout is None or layout.lineCount() < 2:
        return  # not laid out yet: try again on the next append
    line = layout.lineAt(layout.lineCount() - 2)
    at = line.textStart() + line.textLength()
    if not 0 < at < block.length() - 1:
        return
    cut = QTextCursor(block)
    cut.setPosition(block.position() + at)
    cut.insertBlock()


USER_TURN_LABELS = {"simulated": "Simulated user", "scripted": "Scripted user"}
"""How a user turn not typed by a person is marked in a cell (`Run.user_turn`)."""


def quote_user(text: str, source: str | None = None) -> str:
    """A user turn as a markdown block quote, with markdown and HTML characters made inert.
    `source` (`simulated`, `scripted`) marks a turn a simulated user wrote."""
    safe = re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~])", r"\\\1", text)
    lines = safe.splitlines() or [""]
    who = USER_TURN_LABELS.get(source or "", "You")
    return "\n".join([f"> **{who}:** " + lines[0], *("> " + line for line in lines[1:])])
