"""Pairwise comparison: two variants' answers to the same case as "A" and "B", one vote per case.

In blind mode the names are hidden and left/right is shuffled per case, so a person cannot
favour a profile or model they know. The shuffle exists only on screen: what is stored is always
`a` = the first chosen variant's run, `b` = the second's, with the verdict translated back.
"""

from __future__ import annotations

import random
import secrets

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.ab_outcome import PairOutcome, outcome_words, pair_outcome
from app.core.matchups import (
    Matchup,
    all_voted,
    first_unvoted,
    make_preference,
    matchups,
    variants_with_answers,
)
from app.core.prototype import Run, Verdict
from app.core.request_view import sent_user_message
from app.core.scoring import Variant, variant_label
from app.core.threads import thread_from
from app.ui.cell_widget import thread_markdown
from app.ui.document_model import Document
from app.ui.markdown_view import SafeTextBrowser

EMPTY_NO_VARIANTS = (
    "Run at least two variants first.\n\nPress Run (Ctrl+Enter) in the grid, then come back here to "
    "compare answers two at a time."
)
EMPTY_NO_SHARED_CASES = (
    "These two variants have no case answered by both yet.\n\nRun both columns in the grid, "
    "or pick another pair above."
)
EMPTY_SAME_VARIANT = "Pick two different variants to compare."

REVEAL_MS = 1200
"""How long the names stay on screen after a blind vote before the next case appears."""

KEYS: tuple[tuple[str, Verdict, str], ...] = (
    ("1", "a", "A is better"),
    ("2", "b", "B is better"),
    ("3", "tie", "Tie"),
    ("4", "both_bad", "Both bad"),
)
"""(key, verdict as seen on screen, button text)."""


class PairwiseView(QWidget):
    """Pick two variants, then vote on each case they both answered (keys 1-4)."""

    sig_voted = Signal(str)
    """A preference with this id was stored in the document."""
    sig_open_results = Signal()
    """The person asked for the Results tab (from "All cases compared")."""
    sig_change_rater = Signal()
    """The person asked to vote as someone else (from "All cases compared")."""

    def __init__(self, document: Document, parent: QWidget | None = None, *, seed: int | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.seed = secrets.randbits(32) if seed is None else seed
        """Shuffles are `random.Random(f"{seed}/{case id}")`: stable while the view lives, new per session."""
        self.reveal_ms = REVEAL_MS
        self._variants: list[Variant] = []
        self._matchups: list[Matchup] = []
        self._index = 0
        self._swapped = False
        self._revealing = False
        self._queue: list[str] | None = None
        """Case ids still to vote again on ("Vote again on ..."), None when going through in order."""
        self.outcome: PairOutcome | None = None
        """What the pair came to, while "All cases compared" is shown."""
        self._build()
        self._wire()
        self.refresh()

    # -- building ------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.first_combo = QComboBox()
        self.second_combo = QComboBox()
        for combo in (self.first_combo, self.second_combo):
            # not AdjustToContents: a long "profile × model" name held the whole tab that wide and
            # squeezed the navigator and editor panes at 1280 px; the list shows the full names
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(18)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.blind_check = QCheckBox("Blind")
        self.blind_check.setChecked(True)
        self.blind_check.setToolTip(
            "Hide profile and model names and shuffle left/right for each case until you vote."
        )
        self.progress_label = QLabel()
        self.progress_label.setObjectName("pairwise-progress")

        top = QHBoxLayout()
        top.addWidget(QLabel("Compare"))
        top.addWidget(self.first_combo, 3)  # the room goes to the names
        top.addWidget(QLabel("with"))
        top.addWidget(self.second_combo, 3)
        top.addSpacing(12)
        top.addWidget(self.blind_check)
        top.addStretch(1)
        top.addWidget(self.progress_label)

        self.case_label = QLabel()
        self.case_label.setObjectName("pairwise-case")
        self.case_label.setTextFormat(Qt.TextFormat.PlainText)
        bold = self.case_label.font()
        bold.setBold(True)
        self.case_label.setFont(bold)
        self.prompt_label = QLabel()
        self.prompt_label.setObjectName("pairwise-prompt")
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setTextFormat(Qt.TextFormat.PlainText)
        self.prompt_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.prompt_label.setStyleSheet(
            "QLabel { background: palette(alternate-base); border-left: 3px solid palette(highlight);"
            " padding: 6px 8px; }"
        )

        self.left_title, self.left_view = QLabel(), SafeTextBrowser()
        self.right_title, self.right_view = QLabel(), SafeTextBrowser()
        panes = QHBoxLayout()
        sides = ((self.left_title, self.left_view, "A"), (self.right_title, self.right_view, "B"))
        for title, view, name in sides:
            title.setObjectName(f"pairwise-title-{name}")
            title.setTextFormat(Qt.TextFormat.PlainText)
            title.setWordWrap(True)  # a long "profile × model" name wraps, never widens the window
            font = title.font()
            font.setPointSizeF(font.pointSizeF() * 1.25)
            font.setBold(True)
            title.setFont(font)
            view.setObjectName(f"pairwise-answer-{name}")
            view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(view, 1)
            panes.addLayout(column, 1)

        self.vote_buttons: dict[Verdict, QPushButton] = {}
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for key, verdict, text in KEYS:
            button = QPushButton(f"{text}   ({key})")
            button.setObjectName(f"vote-{verdict}")
            button.setToolTip(f"Press {key}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumWidth(120)
            self.vote_buttons[verdict] = button
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.back_button = QPushButton("‹ Previous")
        self.skip_button = QPushButton("Skip ›")
        for button in (self.back_button, self.skip_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons.insertWidget(0, self.back_button)
        buttons.addWidget(self.skip_button)

        self.reveal_label = QLabel()
        self.reveal_label.setObjectName("pairwise-reveal")
        self.reveal_label.setTextFormat(Qt.TextFormat.PlainText)
        self.reveal_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reveal_label.setWordWrap(True)
        self.reveal_label.setMinimumHeight(self.reveal_label.fontMetrics().height() + 12)

        compare = QWidget()
        body = QVBoxLayout(compare)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.case_label)
        body.addWidget(self.prompt_label)
        body.addSpacing(4)
        body.addLayout(panes, 1)
        body.addWidget(self.reveal_label)
        body.addLayout(buttons)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("pairwise-empty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setStyleSheet("color: palette(placeholder-text); font-size: 14pt;")

        self.stack = QStackedWidget()
        self.stack.addWidget(compare)
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self._build_done())

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        separator = QFrame()
        separator.setFrameShape(QFrame.Shape.HLine)
        separator.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(separator)
        layout.addWidget(self.stack, 1)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def _build_done(self) -> QWidget:
        """"All cases compared": what was compared, who came out ahead, and what to do next."""
        self.done_title = QLabel()
        self.done_title.setObjectName("pairwise-done-title")
        self.done_title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.done_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.done_title.setFont(font)
        self.done_summary = QLabel()
        self.done_summary.setObjectName("pairwise-done-summary")
        self.done_summary.setTextFormat(Qt.TextFormat.PlainText)
        self.done_summary.setWordWrap(True)
        self.done_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.done_summary.setStyleSheet(
            "QLabel { background: palette(alternate-base); border-left: 3px solid palette(highlight);"
            " padding: 8px 10px; }"
        )
        self.done_last_vote = QLabel()
        self.done_last_vote.setObjectName("pairwise-done-last-vote")
        self.done_last_vote.setTextFormat(Qt.TextFormat.PlainText)
        self.done_last_vote.setWordWrap(True)
        self.done_last_vote.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        next_label = QLabel("What next")
        bold = next_label.font()
        bold.setBold(True)
        next_label.setFont(bold)
        self.again_button = QPushButton()
        self.again_button.setObjectName("pairwise-vote-again")
        self.again_button.setToolTip("Go through the cases that ended in a tie or “both bad”, or where "
                                     "raters disagree, and vote on them again")
        self.again_button.clicked.connect(lambda: self._vote_on(self.outcome.revisit if self.outcome else ()))
        self.mine_button = QPushButton()
        self.mine_button.setObjectName("pairwise-vote-mine")
        self.mine_button.setToolTip("Vote on the cases you (the current rater) have not voted on yet")
        self.mine_button.clicked.connect(
            lambda: self._vote_on(self.outcome.not_by_rater if self.outcome else ())
        )
        self.rater_button = QPushButton("Switch rater…")
        self.rater_button.setObjectName("pairwise-switch-rater")
        self.rater_button.setToolTip("Vote as someone else: Settings › You (rater)")
        self.rater_button.clicked.connect(self.sig_change_rater)
        self.results_button = QPushButton("Open Results")
        self.results_button.setObjectName("pairwise-open-results")
        self.results_button.setToolTip("The leaderboard and head-to-head win rates of every variant")
        self.results_button.clicked.connect(self.sig_open_results)
        self.last_case_button = QPushButton("‹ Back to the last case")
        self.last_case_button.setObjectName("pairwise-last-case")
        self.last_case_button.clicked.connect(lambda: self._go(len(self._matchups) - 1))
        actions = QVBoxLayout()
        actions.setSpacing(6)
        for button in (self.again_button, self.mine_button, self.rater_button, self.results_button,
                       self.last_case_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row = QHBoxLayout()
            row.addWidget(button)
            row.addStretch(1)
            actions.addLayout(row)
        other_pair = QLabel("Or pick another pair above.")
        other_pair.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        actions.addWidget(other_pair)

        page = QWidget()
        page.setObjectName("pairwise-done")
        column = QVBoxLayout()
        column.addWidget(self.done_title)
        column.addWidget(self.done_summary)
        column.addWidget(self.done_last_vote)
        column.addSpacing(12)
        column.addWidget(next_label)
        column.addLayout(actions)
        column.addStretch(1)
        centred = QHBoxLayout(page)  # a readable measure on a wide window, not one long line
        centred.addStretch(1)
        centred.addLayout(column, 6)
        centred.addStretch(1)
        return page

    def _wire(self) -> None:
        for key, verdict, _text in KEYS:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setWhatsThis(f"Vote: {_text}")
            shortcut.setProperty("keysArea", "Compare A/B")
            shortcut.activated.connect(lambda v=verdict: self.vote(v))
            self.vote_buttons[verdict].clicked.connect(lambda _checked=False, v=verdict: self.vote(v))
        self.back_button.clicked.connect(lambda: self._go(self._index - 1))
        self.skip_button.clicked.connect(lambda: self._go(self._next_index()))
        self.first_combo.currentIndexChanged.connect(self.on_pair_changed)
        self.second_combo.currentIndexChanged.connect(self.on_pair_changed)
        self.blind_check.toggled.connect(self.on_blind_toggled)
        self.document.sig_runs_changed.connect(self.refresh)
        self.document.sig_structure_changed.connect(self.refresh)
        self.document.sig_path_changed.connect(self.refresh)
        self.document.sig_rater_changed.connect(self._on_rater_changed)

    # -- public --------------------------------------------------------------------------------------

    @property
    def blind(self) -> bool:
        return self.blind_check.isChecked()

    @property
    def swapped(self) -> bool:
        """Whether the current case shows the second variant on the left (blind mode only)."""
        return self._swapped

    def matchups(self) -> list[Matchup]:
        return list(self._matchups)

    def current(self) -> Matchup | None:
        return self._matchups[self._index] if 0 <= self._index < len(self._matchups) else None

    def compare(self, first: Variant, second: Variant) -> None:
        """Select two variants (e.g. from a grid column's context menu) and start at their first case."""
        for combo, variant in ((self.first_combo, first), (self.second_combo, second)):
            index = _index_of(combo, variant)
            if index >= 0:
                combo.setCurrentIndex(index)
        self._rebuild_matchups()

    def refresh(self) -> None:
        """Re-read the variants and cases from the document, keeping the pair and case when possible."""
        keep = (self._combo_variant(self.first_combo), self._combo_variant(self.second_combo))
        variants = self._variants_with_runs()
        self._variants = variants
        for combo, wanted, fallback in ((self.first_combo, keep[0], 0), (self.second_combo, keep[1], 1)):
            with QSignalBlocker(combo):
                combo.clear()
                for variant in variants:
                    combo.addItem(variant_label(self.document.proto, variant), variant)
                index = _index_of(combo, wanted)
                combo.setCurrentIndex(index if index >= 0 else min(fallback, len(variants) - 1))
        first = self._combo_variant(self.first_combo)
        if len(variants) >= 2 and first == self._combo_variant(self.second_combo):
            with QSignalBlocker(self.second_combo):
                self.second_combo.setCurrentIndex(next(i for i, v in enumerate(variants) if v != first))
        self._rebuild_matchups(background=True)

    def vote(self, on_screen: Verdict) -> None:
        """Store the vote for what is on screen (A = left), reveal the names, move on."""
        matchup = self.current()
        if matchup is None or self._revealing or self.stack.currentIndex() != 0:
            return
        preference = make_preference(matchup, on_screen, swapped=self._swapped, blind=self.blind)
        self.document.add_preference(preference)
        self.sig_voted.emit(preference.id)
        self._reveal(on_screen)
        if self.reveal_ms > 0:
            self._revealing = True
            self._set_voting_enabled(False)
            QTimer.singleShot(self.reveal_ms, self._after_reveal)
        else:
            self._after_reveal()

    def showEvent(self, event: QShowEvent) -> None:
        """Take the keyboard when shown (e.g. its tab was clicked), so 1-4 vote straight away."""
        super().showEvent(event)
        focus = QApplication.focusWidget()
        if focus is None or not self.isAncestorOf(focus):
            self.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- slots ---------------------------------------------------------------------------------------

    def on_pair_changed(self) -> None:
        self._rebuild_matchups()

    def on_blind_toggled(self, _checked: bool) -> None:
        self._show_case()

    # -- internals -----------------------------------------------------------------------------------

    def _variants_with_runs(self) -> list[Variant]:
        return variants_with_answers(self.document.proto)

    @staticmethod
    def _combo_variant(combo: QComboBox) -> Variant | None:
        data = combo.currentData()
        return data if isinstance(data, Variant) else None

    def _rebuild_matchups(self, *, background: bool = False) -> None:
        """`background`: new runs or edits arrived (not the person's choice), so a vote's reveal stays put."""
        current = self.current()
        keep_case = current.case if current else None
        first, second = self._combo_variant(self.first_combo), self._combo_variant(self.second_combo)
        self._matchups = []
        if first is not None and second is not None:
            self._matchups = matchups(self.document.proto, first, second)
        cases = [m.case for m in self._matchups]
        if not background:
            self._queue = None  # another pair: its cases are not the ones queued
        kept = keep_case in cases
        if kept:
            self._index = cases.index(keep_case)
        elif background and current is None and self._matchups and self._all_voted():
            self._index = len(self._matchups)  # stay on "All cases compared"
        else:
            self._index = self._first_unvoted()
        if background and kept and self._revealing:
            return  # the reveal timer moves on to the next case
        self._show_case(keep_reveal=background and kept)

    def _first_unvoted(self) -> int:
        return first_unvoted(self.document.proto, self._matchups)

    def _all_voted(self) -> bool:
        return all_voted(self.document.proto, self._matchups)

    def _go(self, index: int) -> None:
        if self._revealing or not self._matchups:
            return
        self._index = max(0, min(index, len(self._matchups)))
        self.reveal_label.clear()
        self._show_case()

    def _next_index(self) -> int:
        """The case after this one: the next queued one while voting again, else the next in order."""
        if self._queue is None:
            return self._index + 1
        cases = [m.case for m in self._matchups]
        while self._queue:
            case = self._queue.pop(0)
            if case in cases:
                return cases.index(case)
        self._queue = None
        return len(self._matchups)

    def _vote_on(self, indices: tuple[int, ...]) -> None:
        """Go through these cases (indices into the matchups) in order, then back to "All compared"."""
        cases = [self._matchups[i].case for i in indices if 0 <= i < len(self._matchups)]
        if not cases:
            return
        self._queue = cases[1:]
        self._go(self._matchups.index(next(m for m in self._matchups if m.case == cases[0])))

    def _on_rater_changed(self, _rater: str = "") -> None:
        if self.stack.currentIndex() == 2:
            self._show_done()

    def _after_reveal(self) -> None:
        self._revealing = False
        self._index = self._next_index()
        if self.reveal_label.text():
            self._set_reveal("Previous case: " + self.reveal_label.text(), fresh=False)
        self._show_case(keep_reveal=True)

    def _show_case(self, keep_reveal: bool = False) -> None:
        if len(self._variants) < 2:
            self._show_empty(EMPTY_NO_VARIANTS)
            return
        if self._combo_variant(self.first_combo) == self._combo_variant(self.second_combo):
            self._show_empty(EMPTY_SAME_VARIANT)
            return
        if not self._matchups:
            self._show_empty(EMPTY_NO_SHARED_CASES)
            return
        self.stack.setCurrentIndex(0)
        for combo in (self.first_combo, self.second_combo):
            combo.setEnabled(True)
        if not keep_reveal:
            self.reveal_label.clear()
        total = len(self._matchups)
        matchup = self.current()
        if matchup is None:  # past the last case
            self._show_done()
            return
        again = f" · voting again, {len(self._queue)} more after this" if self._queue else ""
        self.progress_label.setText(f"Case {self._index + 1} of {total}{again}")
        case = self.document.proto.case(matchup.case)
        prompt = sent_user_message(matchup.first, case)  # as sent: every {{var}} filled in
        heading = case.description or case.id
        self.case_label.setText(heading)
        self.prompt_label.setText(f"User: {_one_line(prompt)}")
        self._swapped = self.blind and random.Random(f"{self.seed}/{matchup.case}").random() < 0.5
        left, right = (matchup.second, matchup.first) if self._swapped else (matchup.first, matchup.second)
        proto, rater = self.document.proto, self.document.rater
        self.left_view.show_markdown(thread_markdown(thread_from(proto, left), rater))
        self.right_view.show_markdown(thread_markdown(thread_from(proto, right), rater))
        if self.blind:
            self.left_title.setText("A")
            self.right_title.setText("B")
        else:
            self.left_title.setText(f"A · {self._label(left)}")
            self.right_title.setText(f"B · {self._label(right)}")
        self._set_voting_enabled(True)
        self.back_button.setEnabled(self._index > 0)

    def _show_done(self) -> None:
        """Every case has a vote: say what was compared and what came of it (`core/ab_outcome.py`)."""
        first, second = self._combo_variant(self.first_combo), self._combo_variant(self.second_combo)
        if first is None or second is None:
            return
        total = len(self._matchups)
        self._queue = None
        self.outcome = outcome = pair_outcome(self.document.proto, self._matchups, first, second,
                                              self.document.rater)
        self.progress_label.setText(f"Done: {total} of {total} cases")
        self.case_label.setText("All cases compared.")
        for view in (self.left_view, self.right_view):
            view.clear()
        self._set_voting_enabled(False)
        self.done_title.setText(f"All {total} cases compared" if total != 1 else "The case is compared")
        self.done_summary.setText("\n".join(outcome_words(self.document.proto, outcome)))
        last = self.reveal_label.text().removeprefix("Previous case: ")
        self.done_last_vote.setText(f"Last vote: {last}" if last else "")
        self.done_last_vote.setVisible(bool(last))
        again = len(outcome.revisit)
        self.again_button.setText(f"Vote again on {again} {_plural(again, 'tie')} or "
                                  f"{_plural(again, 'disagreement')}")
        self.again_button.setVisible(again > 0)
        mine = len(outcome.not_by_rater)
        self.mine_button.setText(f"Vote as {self.document.rater} on the {mine} {_plural(mine, 'case')} "
                                 "you have not voted on")
        self.mine_button.setVisible(mine > 0)
        self.stack.setCurrentIndex(2)

    def _reveal(self, on_screen: Verdict) -> None:
        matchup = self.current()
        if matchup is None:
            return
        left, right = (matchup.second, matchup.first) if self._swapped else (matchup.first, matchup.second)
        a_label, b_label = self._label(left), self._label(right)
        self.left_title.setText(f"A · {a_label}")
        self.right_title.setText(f"B · {b_label}")
        said = {"a": "A is better", "b": "B is better", "tie": "Tie", "both_bad": "Both bad"}[on_screen]
        self._set_reveal(f"You voted “{said}”.   A was: {a_label}   ·   B was: {b_label}", fresh=True)

    def _set_reveal(self, text: str, *, fresh: bool) -> None:
        """Fresh: just voted, names in bold. Otherwise a quieter note about the previous case."""
        self.reveal_label.setStyleSheet(
            "QLabel { font-weight: bold; color: palette(highlight); }" if fresh
            else "QLabel { color: palette(placeholder-text); }"
        )
        self.reveal_label.setText(text)

    def _label(self, run: Run) -> str:
        return variant_label(self.document.proto, Variant(run.profile, run.model))

    def _set_voting_enabled(self, enabled: bool) -> None:
        for button in self.vote_buttons.values():
            button.setEnabled(enabled)
        self.skip_button.setEnabled(enabled)
        self.back_button.setEnabled(enabled and self._index > 0)

    def _show_empty(self, text: str) -> None:
        for combo in (self.first_combo, self.second_combo):
            combo.setEnabled(len(self._variants) >= 2)
        self.empty_label.setText(text)
        self.stack.setCurrentIndex(1)
        self.progress_label.setText("")
        self._set_voting_enabled(False)


def _index_of(combo: QComboBox, variant: Variant | None) -> int:
    """`findData` compares Python objects by identity; variants are compared by value here."""
    for index in range(combo.count()):
        if variant is not None and combo.itemData(index) == variant:
            return index
    return -1


def _plural(n: int, noun: str) -> str:
    return noun if n == 1 else noun + "s"


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
