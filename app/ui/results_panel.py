"""Results: per-variant thumbs-up rate, head-to-head win rates and the Bradley-Terry leaderboard chart.

The numbers come from `app.core.scoring`. Collecting the votes is cheap and reads the document,
so it happens on the GUI thread; the bootstrap is not, so it runs as a background `Job` and the
result is shown when it arrives. Changes to votes, ratings or runs re-score after a short pause,
and a result that was overtaken by a newer change is dropped.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.matchups import variants_with_answers
from app.core.ranking_words import ranking_words
from app.core.scoring import (
    DEFAULT_SAMPLES,
    PairRecord,
    Tally,
    Variant,
    VariantScore,
    collect,
    head_to_head,
    rank,
)
from app.ui.document_model import Document
from app.ui.jobs import Job
from app.ui.leaderboard_chart import LeaderboardChart, describe
from app.ui.plain import plain_label, plain_tip

DEBOUNCE_MS = 300
"""Quiet time after the last change before re-scoring, so a burst of votes scores once."""

EMPTY_TEXT = (
    "Nothing to score yet.\n\n"
    "Run the grid (Ctrl+Enter), then give answers a thumbs up or down (keys + and -),\n"
    "or open the Compare A/B tab and vote which of two answers is better (keys 1-4).\n"
    "Win rates and the leaderboard appear here as you go."
)

TABLE_COLUMNS = (
    "Variant", "Thumbs up", "Win rate", "Won / lost / tied", "Both bad", "Score", "95% CI", "Votes"
)


class ResultsPanel(QWidget):
    """Scores of the document's variants, re-computed off the GUI thread whenever the signal changes."""

    sig_scored = Signal()
    """New scores are on screen (`scores` and `pairs` are up to date)."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.samples = DEFAULT_SAMPLES
        self.seed = 0
        self.scores: list[VariantScore] = []
        self.pairs: list[PairRecord] = []
        self._tally: Tally | None = None
        self._generation = 0
        self._pending = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.rescore)
        self._build()
        for signal in (document.sig_preferences_changed, document.sig_runs_changed,
                       document.sig_structure_changed, document.sig_path_changed):
            signal.connect(self.schedule)
        document.sig_rating_changed.connect(self.schedule)
        self.rescore()

    # -- building ------------------------------------------------------------------------------------

    def _build(self) -> None:
        title = QLabel("Results")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        title.setFont(font)
        self.blind_check = QCheckBox("Blind votes only")
        self.blind_check.setToolTip("Count only pairwise votes cast with names hidden. Thumbs always count.")
        self.blind_check.toggled.connect(self.schedule_now)
        self.status_label = plain_label()  # "Scoring failed: <error>"
        self.status_label.setObjectName("results-status")
        self.status_label.setStyleSheet("color: palette(placeholder-text);")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(16)
        header.addWidget(self.blind_check)
        header.addStretch(1)
        header.addWidget(self.status_label)

        self.chart = LeaderboardChart()
        self.table = _table(TABLE_COLUMNS)
        self.matrix = _table(())
        self.matrix_note = QLabel("Each cell: how often the row's variant beat the column's "
                                  "(ties count half). Hover for the counts.")
        self.matrix_note.setWordWrap(True)
        self.matrix_note.setStyleSheet("color: palette(placeholder-text);")

        self.ranking_note = plain_label()
        self.ranking_note.setObjectName("results-ranking-note")
        self.ranking_note.setWordWrap(True)
        self.ranking_note.setStyleSheet("color: #8a5300;")
        self.ranking_note.hide()

        content = QWidget()
        body = QVBoxLayout(content)
        body.setContentsMargins(0, 0, 4, 0)
        leaderboard = QVBoxLayout()
        leaderboard.addWidget(_section("Leaderboard", "who wins when two answers are compared"))
        leaderboard.addWidget(self.chart)
        leaderboard.addWidget(self.ranking_note)
        leaderboard.addStretch(1)
        head_to_head_box = QVBoxLayout()
        head_to_head_box.addWidget(_section("Head to head", "pairwise win rates"))
        head_to_head_box.addWidget(self.matrix)
        head_to_head_box.addWidget(self.matrix_note)
        head_to_head_box.addStretch(1)
        side_by_side = QHBoxLayout()  # the ranking and the pairwise wins it comes from, together
        side_by_side.addLayout(leaderboard, 3)
        side_by_side.addLayout(head_to_head_box, 2)
        body.addLayout(side_by_side)
        body.addWidget(_section("Per variant", "thumbs from the grid, votes from Compare A/B"))
        body.addWidget(self.table)
        body.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)

        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setObjectName("results-empty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(placeholder-text); font-size: 13pt;")

        self.stack = QStackedWidget()
        self.stack.addWidget(scroll)
        self.stack.addWidget(self.empty_label)
        self.stack.setCurrentIndex(1)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)

    # -- scoring -------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A re-score is waiting or running."""
        return self._pending or self._debounce.isActive()

    def schedule(self, *_args: object) -> None:
        """Re-score after `DEBOUNCE_MS` of quiet (every document change calls this)."""
        self._debounce.start()

    def schedule_now(self, *_args: object) -> None:
        self._debounce.stop()
        self.rescore()

    def rescore(self) -> None:
        """Snapshot the votes here, bootstrap in the background, show the result when it arrives."""
        tally = collect(self.document.proto, blind_only=self.blind_check.isChecked())
        self._generation += 1
        generation = self._generation
        self._tally = tally
        self._pending = True
        self.status_label.setText("Scoring…")
        samples, seed = self.samples, self.seed
        (
            Job(lambda: (rank(tally, samples=samples, seed=seed), head_to_head(tally)))
            .success(lambda result: self._on_scored(generation, tally, result))
            .failure(lambda exc: self._on_failed(generation, exc))
            .start()
        )

    def _on_scored(
        self, generation: int, tally: Tally, result: tuple[list[VariantScore], list[PairRecord]]
    ) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._pending = False
        scores, self.pairs = result
        answered = set(variants_with_answers(self.document.proto))
        self.scores = [s for s in scores if s.variant in answered]  # no rows for never-run variants
        self._show(tally)
        self.sig_scored.emit()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._pending = False
        self.status_label.setText(f"Scoring failed: {exc}")

    # -- showing -------------------------------------------------------------------------------------

    def _show(self, tally: Tally) -> None:
        rated = sum(r.rated for r in self.scores)
        if not tally.votes and not rated:
            self.stack.setCurrentIndex(1)
            self.status_label.setText("")
            return
        self.stack.setCurrentIndex(0)
        blind = sum(1 for v in tally.votes if v.blind)
        count = len(tally.votes)
        votes = f"{count} blind votes" if tally.blind_only else f"{count} votes ({blind} blind)"
        stale = sum(1 for state in self.document.cell_states().values() if state.stale)
        outdated = f" · {stale} answers out of date" if stale else ""
        self.status_label.setText(f"{votes} · {rated} thumbs · {len(self.scores)} variants{outdated}")
        self.status_label.setToolTip(
            "Out of date: the profile, model target or case changed since those answers; their ratings "
            "and votes still count here. Run the cells again for current answers." if stale else ""
        )
        self.chart.set_empty_text(
            "No blind votes yet. Vote with Blind checked in Compare A/B, or untick “Blind votes only”."
            if tally.blind_only
            else "No pairwise votes yet.\nOpen the Compare A/B tab, pick two columns and vote (keys 1-4)."
        )
        self.chart.set_scores(self.scores)
        words = ranking_words(self.scores)
        self.ranking_note.setText(words)
        self.ranking_note.setVisible(bool(words))
        self._fill_table()
        self._fill_matrix()

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.scores))
        for row, s in enumerate(self.scores):
            cells = [
                s.label,
                f"{s.thumb_rate:.0%}  ({s.thumbs_up} of {s.rated})" if s.thumb_rate is not None else "–",
                _pct(s.win_rate),
                f"{s.wins} / {s.losses} / {s.ties}",
                str(s.both_bad),
                "–" if s.bt_score is None else f"{s.bt_score:.0f}",
                "–" if s.ci_low is None or s.ci_high is None else f"{s.ci_low:.0f} – {s.ci_high:.0f}",
                str(s.votes),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tip(describe(s)))
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        _fit_height(self.table)

    def _fill_matrix(self) -> None:
        variants = [s.variant for s in self.scores if s.votes]
        labels = {s.variant: s.label for s in self.scores}
        self.matrix.clear()
        self.matrix.setRowCount(len(variants))
        self.matrix.setColumnCount(len(variants))
        # numbered like the rows: full names don't fit beside the leaderboard, numbers always do
        self.matrix.setHorizontalHeaderLabels([str(n) for n in range(1, len(variants) + 1)])
        self.matrix.setVerticalHeaderLabels([f"{n}. {labels[v]}" for n, v in enumerate(variants, start=1)])
        for column, variant in enumerate(variants):
            header = self.matrix.horizontalHeaderItem(column)
            if header is not None:
                header.setToolTip(plain_tip(labels[variant]))
        lookup: dict[tuple[Variant, Variant], PairRecord] = {}
        for pair in self.pairs:
            lookup[(pair.a, pair.b)] = pair
            lookup[(pair.b, pair.a)] = PairRecord(pair.b, pair.a, pair.b_wins, pair.a_wins, pair.ties,
                                                  pair.both_bad)
        base = self.palette().color(QPalette.ColorRole.Base)
        for r, row_variant in enumerate(variants):
            for c, column_variant in enumerate(variants):
                item = QTableWidgetItem()
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                record = lookup.get((row_variant, column_variant))
                if r == c:
                    item.setText("")
                elif record is None or record.votes == 0:
                    item.setText("·")
                    item.setToolTip("These two were never compared.")
                else:
                    rate = record.win_rate
                    item.setText(_pct(rate) if rate is not None else "both bad")
                    item.setToolTip(plain_tip(
                        f"{labels[row_variant]} vs {labels[column_variant]}: won {record.a_wins}, "
                        f"lost {record.b_wins}, tied {record.ties}, both bad {record.both_bad}"
                    ))
                    if rate is not None:
                        item.setBackground(_rate_colour(rate, base))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.matrix.setItem(r, c, item)
        self.matrix.setVisible(bool(variants))
        self.matrix_note.setVisible(bool(variants))
        _fit_height(self.matrix)


# -- helpers -----------------------------------------------------------------------------------------


def _section(title: str, subtitle: str) -> QLabel:
    label = QLabel(f"<b>{title}</b> <span style='color: palette(placeholder-text)'>— {subtitle}</span>")
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setContentsMargins(0, 10, 0, 2)
    return label


def _table(columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    if columns:
        table.setHorizontalHeaderLabels(list(columns))
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(columns)):
            table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    else:
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setAlternatingRowColors(bool(columns))
    table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return table


def _fit_height(table: QTableWidget) -> None:
    """Tables show all their rows; the panel scrolls instead."""
    height = table.horizontalHeader().height() + 2 * table.frameWidth()
    height += sum(table.rowHeight(r) for r in range(table.rowCount()))
    table.setFixedHeight(height + 2)


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


def _rate_colour(rate: float, base: QColor) -> QColor:
    """Red for losing, green for winning, faint enough that text stays readable on dark and light."""
    hue = 120 * rate / 360  # 0 = red, 1/3 = green
    colour = QColor.fromHslF(hue, 0.65, 0.45 if base.lightnessF() < 0.5 else 0.55)
    colour.setAlphaF(0.18 + 0.5 * abs(rate - 0.5))
    return colour
