"""One cell of the compare grid: a variant's answer (the whole thread), its status line, and its rating."""

from __future__ import annotations

import re
from time import monotonic

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.costs import format_cost
from app.core.prototype import Rating, Run
from app.core.ratings import rating_of, split_of
from app.core.run_words import asks_for_longer_timeout, failure_words, source_word, unstored_words
from app.core.samples import MAX_SAMPLES, offers_new_sample
from app.core.simulation import end_words, thread_end
from app.core.tools import without_tool_rounds
from app.ui.elided_label import ElidedLabel
from app.ui.markdown_view import SafeTextBrowser, quote_user
from app.ui.plain import plain_label, plain_tip
from app.ui.previews import KEYS_HELP, PreviewContext, PreviewPane
from app.ui.resources import icon
from app.ui.sample_pager import SamplePager, arrow_button

CELL_WIDTH = 300
"""The narrowest a column gets; the grid widens columns to fill the space it has."""
MAX_CELL_WIDTH = 560
CELL_HEIGHT = 300
FOCUS_COLOR = "#1a73e8"
FOCUS_STYLE = (
    "QFrame#cell { border: 2px solid palette(midlight); border-radius: 4px; }"
    f"QFrame#cell:focus {{ border: 2px solid {FOCUS_COLOR}; }}"
)
"""The cell the keys act on wears a strong blue frame; the others a quiet one of the same width
(so focusing never shifts the text)."""
EMPTY_TEXT = "Not run · Ctrl+Enter"
QUEUED_TEXT = "Waiting to start…"  # for a free slot, or for the rest of its row to start with it
WAITING_TEXT = "Waiting for words…"
NO_ANSWER_TEXT = "No answer: why is below"
"""Placeholders: one short line each, since Qt draws only a placeholder's first line, clipped at
the cell's edge (kept short enough for a 4-column grid). NO_ANSWER_TEXT is for a failed or stopped
cell with no text, which showed a blank box over the red reason, or "Not run" over "Stopped."."""


def status_line(run: Run, model_label: str) -> str:
    """model · cached/live · tokens · TTFT · latency · cost, in plain words.

    Cached or live comes second: a narrow cell ends the line in "…", and whether an answer
    is fresh matters more than its timings.
    """
    parts = [model_label, source_word(run)]
    tokens = run.usage.completion_tokens
    if run.status != "ok" and not run.output and tokens is None:
        return " · ".join(parts)  # nothing came back: "? tok · 0.0 s · cost ?" was noise
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
        opening = not index and run.user_turn is not None  # the simulated user wrote the first message
        said = without_tool_rounds(run.messages)  # a tool round ends the messages, after the user's
        if (index or opening) and (not said or said[-1].role == "user"):  # a fault adds none
            parts.append(quote_user(said[-1].content if said else "", run.user_turn))
        parts.append(run.output or ("*(no text)*" if run.status == "ok" else ""))
        thumb = rating_of(run, rater).thumb
        if index < len(thread) - 1 and thumb is not None:  # the bar rates the newest; earlier replies: here
            parts.append(f"*(rated {'👍' if thumb == 'up' else '👎'})*")
    end = thread_end(thread)
    if end is not None:  # a small line under a simulated conversation: how it ended
        parts.append(f"*(conversation ended: {_inert(end_words(end))})*")
    return "\n\n".join(p for p in parts if p)


def _inert(text: str) -> str:
    """Markdown and HTML characters shown as written (the simulator's reason is model output)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~])", r"\\\1", " ".join(text.split()))


class CellWidget(QFrame):
    """Focusable: arrows move between cells, + / - thumbs, n note, t tags."""

    sig_move = Signal(int, int)
    """(dx, dy): the person pressed an arrow key."""
    sig_run = Signal(bool)
    """Run this cell; True bypasses the cache."""
    sig_stop = Signal()
    sig_rate = Signal(str, object)
    """(run id, Rating): the person changed the rating."""
    sig_sample = Signal(int)
    """-1 / +1: show the previous / next sample of this cell ("sample 2 of 5")."""
    sig_samples = Signal(int)
    """Run this many samples of this cell."""
    sig_request = Signal()
    """Show the exact request behind the shown answer."""
    sig_timeout = Signal()
    """The person wants to give this cell's model more time."""
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
        self.setToolTip(f"Arrows move · + / - thumbs · n note · t tags · {KEYS_HELP} · F1 every key\n"
                        "Right-click: N samples of this cell, the exact request")
        self.setStyleSheet(FOCUS_STYLE)

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
        self.sample = 0
        """Which sample of the cell is shown (the grid pages through them)."""
        self.pager = SamplePager(self)
        self.pager.sig_step.connect(self.sig_sample.emit)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.pager)
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
        self.timeout_button = QToolButton(self)
        self.timeout_button.setObjectName("cell-timeout")
        self.timeout_button.setText("Raise this model's timeout…")
        self.timeout_button.setToolTip("Give this model longer to answer, then run the cell again")
        self.timeout_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.timeout_button.clicked.connect(self.sig_timeout.emit)
        self.timeout_button.hide()
        self.new_sample_button = QToolButton(self)
        self.new_sample_button.setObjectName("cell-new-sample")
        self.new_sample_button.setText("From the cache: draw a new sample")
        self.new_sample_button.setToolTip(
            "This model samples (temperature above 0), so another run would answer differently. "
            "Ask it again, keeping this answer as one of the cell's answers."
        )
        self.new_sample_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.new_sample_button.clicked.connect(lambda: self.sig_run.emit(True))
        self.new_sample_button.hide()
        self._waiting: tuple[str, float] | None = None
        self.turn_words = ""
        """"turn 2 of up to 6" while a simulated conversation runs here (the grid sets it), else ""."""

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
        layout.addWidget(self.timeout_button)
        layout.addWidget(self.new_sample_button)
        layout.addWidget(self.rating_bar)
        self._set_rating_enabled(False)

    def _tool(self, name: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(name))
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setObjectName(f"cell-{name}")
        button.clicked.connect(slot)
        return button

    def _arrow(self, arrow: Qt.ArrowType, tip: str, step: int) -> QToolButton:
        button = arrow_button(self, arrow, tip)
        button.setObjectName("cell-older" if step < 0 else "cell-newer")
        button.clicked.connect(lambda: self.sig_pick.emit(step))
        button.hide()
        return button

    # -- showing -----------------------------------------------------------------------------------

    def show_thread(self, thread: list[Run] | tuple[Run, ...], *, stale: bool = False,
                    position: int = 0, count: int = 0, lazy: bool = False) -> None:
        """Show a finished thread (or nothing). The rating belongs to its newest run.

        `stale`, `position` and `count` come from the core's cell state: whether the answer is
        out of date, and which of the cell's answers it is ("2 of 3"). `lazy`: the thread just
        finished streaming; status and rating show now, the answer renders once the cell is on
        screen, one cell per event-loop turn (`PreviewPane.show_thread`).
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
        self._wait(None)
        if thread:  # the text view is mostly behind the preview: rendered when it is shown or read
            failed = thread[-1].status != "ok" and not thread[-1].output  # its error shows below
            self.view.setPlaceholderText(NO_ANSWER_TEXT if failed else "")
            self.view.defer_markdown(thread_markdown(list(thread), self.rater))
        else:
            self.view.clear()
        self.body.show_thread(thread, lazy=lazy)
        if not thread:
            self.status.setText("")
            self.error.hide()
            self.timeout_button.hide()
            self.new_sample_button.hide()
        else:
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

    def show_unstored_end(self, run: Run) -> None:
        """The run ended with nothing stored (stopped before any text): say so in the empty cell
        until it is shown again, instead of going blank as if it had never run."""
        self.status.setText(source_word(run))
        self.view.setPlaceholderText(NO_ANSWER_TEXT)  # "Not run" over "Stopped." contradicted it
        self.error.setText(unstored_words(run))
        self.error.show()

    def _show_error(self, run: Run) -> None:
        self.timeout_button.setVisible(asks_for_longer_timeout(run))
        self.new_sample_button.setVisible(offers_new_sample(run, run.params))
        if run.status == "ok":
            self.error.hide()
            return
        self.error.setText(failure_words(run))
        self.error.show()

    def _wait(self, words: str | None) -> None:
        """Count the seconds a queued or silent cell has been waiting (None: not waiting)."""
        self._waiting = None if words is None else (words, monotonic())
        self.tick()

    def tick(self) -> None:
        """Refresh the waiting time (the grid calls this once a second while a run is on)."""
        if self._waiting is None:
            return
        words, since = self._waiting
        self.status.setText(self._live_status(f"{words} {monotonic() - since:.0f} s"))

    def _live_status(self, words: str) -> str:
        """The header while queued or streaming: the conversation's turn first (when simulated)."""
        return " · ".join(part for part in (self.turn_words, self.model_label, words) if part)

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
        self.view.setPlaceholderText(QUEUED_TEXT)
        self._wait("queued")

    def begin_stream(self, thread: list[Run], follow_up: str | None, cached: bool,
                     source: str | None = None) -> None:
        """Start showing a live answer, after the existing thread when this is a follow-up."""
        self.streaming = True
        self._show_running(True)
        self.body.show_live()
        self.error.hide()
        self.view.setPlaceholderText(WAITING_TEXT)
        prefix = ""
        if follow_up is not None and thread:
            prefix = thread_markdown(thread, self.rater) + "\n\n" + quote_user(follow_up, source)
        self.view.begin_stream(prefix)
        self.status.setText(self._live_status("from cache" if cached else "streaming…"))
        self.timeout_button.hide()
        self.new_sample_button.hide()
        if not cached:
            self._wait("waiting")  # short: headers are elided at 4 columns; the body says the rest
        self._set_rating_enabled(False)

    def append_text(self, text: str) -> None:
        if self._waiting is not None:
            self._wait(None)
            self.status.setText(self._live_status("streaming…"))
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
        action = CELL_KEY_ACTIONS.get(Qt.Key(event.key()))
        if action is None or (Qt.Key.Key_A <= event.key() <= Qt.Key.Key_Z and _with_command_modifier(event)):
            super().keyPressEvent(event)
            return
        name, args = action
        getattr(self, name)(*args)

    def key_move(self, dx: int, dy: int) -> None:
        self.sig_move.emit(dx, dy)

    def key_note(self) -> None:
        if self.note.isEnabled():
            self.note.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.note.selectAll()

    def key_tags(self) -> None:
        if self.tags.isEnabled():
            self.tags.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def key_raw(self) -> None:
        self.body.toggle_raw()

    def key_speak(self) -> None:
        self.body.speak()

    def key_page(self, step: int) -> None:
        if self.pager.isVisible():
            self.sig_sample.emit(step)
        elif self.older.isVisible():
            self.sig_pick.emit(step)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        request = menu.addAction("Show the exact request…")
        request.setEnabled(self.run is not None)
        request.triggered.connect(self.sig_request.emit)
        menu.addSeparator()
        for count in (3, 5, MAX_SAMPLES):
            action = menu.addAction(f"Run {count} samples of this cell")
            action.triggered.connect(lambda _checked=False, n=count: self.sig_samples.emit(n))
        menu.popup(event.globalPos())


CELL_KEYS: tuple[tuple[str, str, tuple[Qt.Key, ...], str, tuple[object, ...]], ...] = (
    ("←  →  ↑  ↓", "Move between cells", (Qt.Key.Key_Left,), "key_move", (-1, 0)),
    ("", "", (Qt.Key.Key_Right,), "key_move", (1, 0)),
    ("", "", (Qt.Key.Key_Up,), "key_move", (0, -1)),
    ("", "", (Qt.Key.Key_Down,), "key_move", (0, 1)),
    ("+", "Thumbs up on the focused cell (again to clear)", (Qt.Key.Key_Plus, Qt.Key.Key_Equal),
     "_thumb", ("up",)),
    ("-", "Thumbs down on the focused cell (again to clear)", (Qt.Key.Key_Minus, Qt.Key.Key_Underscore),
     "_thumb", ("down",)),
    ("n", "Write a note on the focused cell (Enter keeps it)", (Qt.Key.Key_N,), "key_note", ()),
    ("t", "Write tags on the focused cell (Enter keeps them)", (Qt.Key.Key_T,), "key_tags", ()),
    ("r", "Switch the focused cell between its form-factor preview and the text", (Qt.Key.Key_R,),
     "key_raw", ()),
    ("s", "Speak / stop the focused cell's voice preview", (Qt.Key.Key_S,), "key_speak", ()),
    ("[  ]", "Previous / next sample (or answer) of the focused cell", (Qt.Key.Key_BracketLeft,),
     "key_page", (-1,)),
    ("", "", (Qt.Key.Key_BracketRight,), "key_page", (1,)),
)
"""(keys as shown in F1, what they do, Qt keys, CellWidget method, its arguments): the one definition
the focused cell's key handling and the F1 list both read. Rows with no text continue the one above."""

CELL_KEY_ACTIONS: dict[Qt.Key, tuple[str, tuple[object, ...]]] = {
    key: (method, args) for _shown, _what, keys, method, args in CELL_KEYS for key in keys
}


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
