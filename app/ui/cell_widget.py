"""One cell of the compare grid: a variant's answer (the whole thread), its status line, and its rating."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.costs import format_cost
from app.core.prototype import Rating, Run
from app.core.ratings import rating_of, split_of
from app.ui.markdown_view import SafeTextBrowser, quote_user
from app.ui.plain import plain_label, plain_tip
from app.ui.previews import KEYS_HELP, PreviewContext, PreviewPane
from app.ui.resources import icon

CELL_WIDTH = 300
"""The narrowest a column gets; the grid widens columns to fill the space it has."""
MAX_CELL_WIDTH = 560
CELL_HEIGHT = 300
EMPTY_TEXT = "Not run yet: Ctrl+Enter, or ▶ above."
"""One short line: Qt draws only the first line of a placeholder, clipped at the cell's edge."""


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


def status_line(run: Run, model_label: str) -> str:
    """model · cached/live · tokens · TTFT · latency · cost, in plain words.

    Cached or live comes second: a narrow cell ends the line in "…", and whether an answer
    is fresh matters more than its timings.
    """
    parts = [model_label, "cached" if run.cached else "live"]
    tokens = run.usage.completion_tokens
    parts.append(f"{tokens} tok" if tokens is not None else "? tok")
    if run.ttft_ms is not None:
        parts.append(f"TTFT {run.ttft_ms / 1000:.2f} s")
    if run.latency_ms is not None:
        parts.append(f"{run.latency_ms / 1000:.1f} s")
    parts.append(format_cost(run.cost_usd))
    return " · ".join(parts)


def thread_markdown(thread: list[Run], rater: str) -> str:
    """The conversation after the case's own turns: first answer, then each follow-up and its answer.

    Earlier replies show `rater`'s thumb (the bar below rates only the newest)."""
    parts: list[str] = []
    for index, run in enumerate(thread):
        if index and (not run.messages or run.messages[-1].role == "user"):  # a simulator fault adds none
            parts.append(quote_user(run.messages[-1].content if run.messages else "", run.user_turn))
        parts.append(run.output or ("*(no text)*" if run.status == "ok" else ""))
        thumb = rating_of(run, rater).thumb
        if index < len(thread) - 1 and thumb is not None:  # the bar rates the newest; earlier replies: here
            parts.append(f"*(rated {'👍' if thumb == 'up' else '👎'})*")
    return "\n\n".join(p for p in parts if p)


class CellWidget(QFrame):
    """Focusable: arrows move between cells, + / - thumbs, n note, t tags."""

    sig_move = Signal(int, int)
    """(dx, dy): the person pressed an arrow key."""
    sig_run = Signal(bool)
    """Run this cell; True bypasses the cache."""
    sig_stop = Signal()
    sig_rate = Signal(str, object)
    """(run id, Rating): the person changed the rating."""
    sig_pick = Signal(int)
    """-1 / +1: show the cell's previous / next answer ("2 of 3")."""

    def __init__(self, key: tuple[str, str, str], model_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.model_label = model_label
        self.run: Run | None = None
        self.rater = "unknown"
        """Whose rating the bar shows and edits; the grid sets it from the document."""
        self.editable = True
        """False while showing another rater's rating (read-only)."""
        self.streaming = False
        self.stale = False
        """The shown answer came from messages or params the cell no longer sends."""
        self.setObjectName("cell")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFixedSize(QSize(CELL_WIDTH, CELL_HEIGHT))
        self.setToolTip(
            f"Arrows: move between cells · + / -: thumbs up / down · n: note · t: tags · {KEYS_HELP}"
        )

        self.status = ElidedLabel("")
        self.status.setObjectName("cell-status")
        self.status.setStyleSheet("color: palette(mid); font-size: 8pt;")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.run_button = self._tool(
            "run",
            "Run this cell (uses the cache when the prompt is unchanged)",
            lambda: self.sig_run.emit(False),
        )
        self.rerun_button = self._tool(
            "rerun", "Re-run this cell, bypassing the cache", lambda: self.sig_run.emit(True)
        )
        self.stop_button = self._tool("stop", "Stop this cell (Esc stops everything)", self.sig_stop.emit)
        self.stop_button.hide()
        self.older = self._arrow(Qt.ArrowType.LeftArrow, "Show the previous answer of this cell", -1)
        self.newer = self._arrow(Qt.ArrowType.RightArrow, "Show the next answer of this cell", 1)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.older)
        head.addWidget(self.newer)
        head.addWidget(self.status, 1)
        for button in (self.run_button, self.rerun_button, self.stop_button):
            head.addWidget(button)

        self.view = SafeTextBrowser(self)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.setPlaceholderText(EMPTY_TEXT)
        # -- answer body: the form factor's preview or the text view (app/ui/previews) --
        self.body = PreviewPane(self.view, self)
        self.error = plain_label()
        self.error.setObjectName("cell-error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()

        self.up = self._tool("thumb-up", "Good answer (+). Click again to clear.", lambda: self._thumb("up"))
        self.down = self._tool(
            "thumb-down", "Bad answer (-). Click again to clear.", lambda: self._thumb("down")
        )
        for button in (self.up, self.down):
            button.setCheckable(True)
        self.up.setStyleSheet("QToolButton:checked { background: #cdeccf; border: 1px solid #2e9d4f; "
                              "border-radius: 3px; }")
        self.down.setStyleSheet("QToolButton:checked { background: #f6d2ce; border: 1px solid #d0453a; "
                                "border-radius: 3px; }")
        self.note = QLineEdit()
        self.note.setObjectName("cell-note")
        self.note.setPlaceholderText("Note (n)")
        self.note.setToolTip("Why is this answer good or bad? Press n to type, Enter to keep it.")
        self.note.setProperty("emptyTip", self.note.toolTip())
        self.tags = QLineEdit()
        self.tags.setObjectName("cell-tags")
        self.tags.setPlaceholderText("tags (t)")
        self.tags.setToolTip("Comma-separated labels, e.g. too-long, off-tone. Press t to type.")
        self.tags.setProperty("emptyTip", self.tags.toolTip())
        self.tags.setMaximumWidth(110)
        for edit in (self.note, self.tags):
            edit.editingFinished.connect(self._commit_text)
            edit.returnPressed.connect(self._leave_edits)
        rate = QHBoxLayout()
        rate.setContentsMargins(0, 0, 0, 0)
        rate.addWidget(self.up)
        rate.addWidget(self.down)
        rate.addWidget(self.note, 1)
        rate.addWidget(self.tags)
        self.split = plain_label()
        self.split.setObjectName("cell-split")
        self.split.setStyleSheet("color: palette(mid); font-size: 8pt;")
        self.split.setToolTip("How many people rated this answer and how they split")
        rate.addWidget(self.split)
        self.rating_bar = QWidget()
        self.rating_bar.setLayout(rate)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(head)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.rating_bar)
        self._set_rating_enabled(False)

    def _tool(self, name: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(name))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setObjectName(f"cell-{name}")
        button.clicked.connect(slot)
        return button

    def _arrow(self, arrow: Qt.ArrowType, tip: str, step: int) -> QToolButton:
        button = QToolButton(self)
        button.setArrowType(arrow)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setObjectName("cell-older" if step < 0 else "cell-newer")
        button.clicked.connect(lambda: self.sig_pick.emit(step))
        button.hide()
        return button

    # -- showing -----------------------------------------------------------------------------------

    def show_thread(self, thread: list[Run] | tuple[Run, ...], *, stale: bool = False,
                    position: int = 0, count: int = 0) -> None:
        """Show a finished thread (or nothing). The rating belongs to its newest run.

        `stale`, `position` and `count` come from the core's cell state: whether the answer is
        out of date, and which of the cell's answers it is ("2 of 3").
        """
        self.streaming = False
        self._show_running(False)
        self.view.setPlaceholderText(EMPTY_TEXT)
        self.run = thread[-1] if thread else None
        self.stale = bool(thread) and stale
        several = count > 1 and position > 0
        for button in (self.older, self.newer):
            button.setVisible(several)
        self.older.setEnabled(several and position > 1)
        self.newer.setEnabled(several and position < count)
        self.body.show_thread(thread)
        if not thread:
            self.view.clear()
            self.status.setText("")
            self.error.hide()
        else:
            self.view.show_markdown(thread_markdown(list(thread), self.rater))
            status = status_line(thread[-1], self.model_label)
            if len(thread) > 1:  # the rating bar rates this newest reply
                status = f"reply {len(thread)} · {status}"
            if several:
                status = f"{position} of {count} · {status}"
            if self.stale:
                status = f"out of date · {status}"
            self.status.setText(status)
            if self.stale:
                self.status.setToolTip(plain_tip(
                    f"{status}\n\nOut of date: the profile, model target or case changed since this "
                    "answer. Run the cell again for a current one."
                ))
            self._show_error(thread[-1])
        self.show_rating()

    def set_preview_context(self, context: PreviewContext) -> None:
        """The column's form factor (and the names a notification card shows)."""
        self.body.set_context(context)

    def _show_error(self, run: Run) -> None:
        if run.status == "ok":
            self.error.hide()
            return
        words = {"cancelled": "Stopped.", "cut": "The answer was cut off."}.get(
            run.status, "This cell failed."
        )
        detail = run.error or ""
        kept = " The partial answer above is kept." if run.output else ""
        self.error.setText(f"{words} {detail}{kept}".strip())
        self.error.show()

    def show_queued(self, thread: list[Run] | None = None, follow_up: str | None = None,
                    source: str | None = None) -> None:
        """Waiting for a slot. A follow-up keeps the conversation so far on screen, with the new message
        (marked when a simulated user wrote it: `source`)."""
        self._show_running(True)
        self.body.show_live()
        if follow_up is not None and thread:
            said = quote_user(follow_up, source)
            self.view.show_markdown(thread_markdown(thread, self.rater) + "\n\n" + said)
        else:
            self.view.clear()
        self.view.setPlaceholderText("Queued: starts as soon as a slot is free.")
        self.status.setText(f"{self.model_label} · queued")

    def begin_stream(self, thread: list[Run], follow_up: str | None, cached: bool,
                     source: str | None = None) -> None:
        """Start showing a live answer, after the existing thread when this is a follow-up."""
        self.streaming = True
        self._show_running(True)
        self.body.show_live()
        self.error.hide()
        self.view.setPlaceholderText("Waiting for the first words…")
        prefix = ""
        if follow_up is not None and thread:
            prefix = thread_markdown(thread, self.rater) + "\n\n" + quote_user(follow_up, source)
        self.view.begin_stream(prefix)
        self.status.setText(f"{self.model_label} · {'from cache' if cached else 'streaming…'}")
        self._set_rating_enabled(False)

    def append_text(self, text: str) -> None:
        self.view.append_stream(text)

    def _show_running(self, running: bool) -> None:
        self.stop_button.setVisible(running)
        self.run_button.setVisible(not running)
        self.rerun_button.setVisible(not running)

    # -- rating ------------------------------------------------------------------------------------

    def _set_rating_enabled(self, enabled: bool) -> None:
        for widget in (self.up, self.down, self.note, self.tags):
            widget.setEnabled(enabled)

    def show_rating(self) -> None:
        run = self.run
        self._set_rating_enabled(run is not None and not self.streaming and self.editable)
        rating = rating_of(run, self.rater) if run is not None else Rating()
        split = split_of(run) if run is not None else None
        self.split.setText(split.text if split and split.raters > 1 else "")
        with QSignalBlocker(self.up), QSignalBlocker(self.down):
            self.up.setChecked(rating.thumb == "up")
            self.down.setChecked(rating.thumb == "down")
        for edit, text in ((self.note, rating.note), (self.tags, ", ".join(rating.tags))):
            if not edit.hasFocus():
                _show_start(edit, text)

    def current_rating(self) -> Rating:
        thumb = "up" if self.up.isChecked() else "down" if self.down.isChecked() else None
        tags = list(dict.fromkeys(t.strip() for t in self.tags.text().split(",") if t.strip()))
        return Rating(thumb=thumb, note=self.note.text().strip(), tags=tags)

    def _thumb(self, which: str) -> None:
        if self.run is None or self.streaming or not self.editable:
            return
        current = rating_of(self.run, self.rater).thumb
        new = None if current == which else which
        with QSignalBlocker(self.up), QSignalBlocker(self.down):
            self.up.setChecked(new == "up")
            self.down.setChecked(new == "down")
        self.sig_rate.emit(self.run.id, self.current_rating())

    def _commit_text(self) -> None:
        if self.run is not None and not self.streaming and self.editable:
            rating = self.current_rating()
            stored = rating_of(self.run, self.rater)
            if (rating.thumb, rating.note, rating.tags) != (stored.thumb, stored.note, stored.tags):
                self.sig_rate.emit(self.run.id, rating)
        for edit in (self.note, self.tags):
            if not edit.hasFocus():
                _show_start(edit, edit.text())

    def _leave_edits(self) -> None:
        """Enter in the note or tags: keep the text, give the keys back to the cell."""
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        for edit in (self.note, self.tags):
            _show_start(edit, edit.text())

    # -- keyboard ----------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        moves = {
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
        }
        if key in moves:
            self.sig_move.emit(*moves[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self._thumb("up")
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self._thumb("down")
        elif key == Qt.Key.Key_N and self.note.isEnabled():
            self.note.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.note.selectAll()
        elif key == Qt.Key.Key_T and self.tags.isEnabled():
            self.tags.setFocus(Qt.FocusReason.ShortcutFocusReason)
        elif key == Qt.Key.Key_R and not _with_command_modifier(event):
            self.body.toggle_raw()
        elif key == Qt.Key.Key_S and not _with_command_modifier(event):
            self.body.speak()
        else:
            super().keyPressEvent(event)


def _show_start(edit: QLineEdit, text: str) -> None:
    """Show a kept note from its first word (a long one would otherwise show its tail); whole on hover."""
    if edit.text() != text:
        edit.setText(text)
    edit.setCursorPosition(0)
    edit.setToolTip(plain_tip(text) or edit.property("emptyTip") or "")


def _with_command_modifier(event: QKeyEvent) -> bool:
    """Ctrl, Alt or Meta held: the key belongs to a shortcut (Ctrl+R, Alt+S), not to the cell."""
    held = event.modifiers()
    return bool(held & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                        | Qt.KeyboardModifier.MetaModifier))
