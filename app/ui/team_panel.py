"""The Team tab: who rated, how each rater scores the variants, and whether raters and checks agree.

Every number comes from `app.core.agreement` and `app.core.scoring` (the same code as
`protostudio report --agreement` and `report --rater`). Collecting labels reads the document on the
GUI thread (cheap, like the Results tab); the statistics run as a background `Job`.
"""

from __future__ import annotations

from dataclasses import replace

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from app.core.agreement import (
    CheckAgreement,
    PositionBias,
    RaterAgreement,
    agreements_from,
    check_inputs,
    checks_from,
    position_bias,
    thumb_labels,
    vote_labels,
)
from app.core.evals.summary import agreement_check_label
from app.core.ratings import raters
from app.core.scoring import Tally, collect
from app.ui.document_model import Document
from app.ui.jobs import Job

DEBOUNCE_MS = 300
NEEDS_TWO = ("Agreement needs at least two raters on the same answers. Each person sets their name in "
             "Settings → You (rater) and rates in their own copy; `protostudio merge` brings the copies "
             "together.")

Result = tuple[list[RaterAgreement], list[CheckAgreement]]


class TeamPanel(QWidget):
    """Plain-text sections, refreshed a moment after ratings, votes or eval runs change."""

    sig_updated = Signal()
    """New numbers are on screen."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.agreements: list[RaterAgreement] = []
        self.checks: list[CheckAgreement] = []
        self.bias: list[PositionBias] = []
        self._generation = 0
        self._pending = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        self.text = QLabel()
        self.text.setObjectName("team-text")
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # rater names and check text come from files
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.text)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        for signal in (document.sig_preferences_changed, document.sig_runs_changed,
                       document.sig_evals_changed,
                       document.sig_path_changed, document.sig_structure_changed):
            signal.connect(self.schedule)
        document.sig_rating_changed.connect(self.schedule)
        self.refresh()

    @property
    def busy(self) -> bool:
        return self._pending or self._debounce.isActive()

    def schedule(self, *_args: object) -> None:
        self._debounce.start()

    def refresh(self) -> None:
        """Collect labels here; compute kappa and alpha in the background."""
        proto = self.document.proto
        thumbs, votes = thumb_labels(proto), vote_labels(proto)
        verdicts, team = check_inputs(proto)
        bias = position_bias(proto)
        names = raters(proto)
        per_rater = {name: collect(proto, rater=name) for name in names}
        self._generation += 1
        generation = self._generation
        self._pending = True
        (
            Job(lambda: (agreements_from(thumbs, votes), checks_from(verdicts, team)))
            .owned_by(self)
            .success(lambda result: self._show(generation, result, bias, names, per_rater))
            .failure(lambda exc: self._failed(generation, exc))
            .start()
        )

    def _failed(self, generation: int, exc: BaseException) -> None:
        if shiboken6.isValid(self) and generation == self._generation:
            self._pending = False
            self.text.setText(f"Could not compute agreement: {exc}")

    def _show(
        self, generation: int, result: Result, bias: list[PositionBias], names: list[str],
        per_rater: dict[str, Tally],
    ) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._pending = False
        self.agreements, self.checks = result
        self.bias = bias
        proto = self.document.proto
        checks = [replace(c, key=agreement_check_label(proto, c.key, c.key)) for c in self.checks]
        self.text.setText("\n".join(_lines(self.document.rater, names, per_rater, self.agreements,
                                           checks=checks, bias=bias)))
        self.sig_updated.emit()


def _lines(
    me: str, names: list[str], per_rater: dict[str, Tally], agreements: list[RaterAgreement], *,
    checks: list[CheckAgreement], bias: list[PositionBias],
) -> list[str]:
    lines = [f"You rate as {me}. Raters in this file: {', '.join(names) or 'nobody yet'}.", ""]
    lines.append("Thumbs per variant, by rater")
    lines += _thumb_lines(names, per_rater) or ["  No thumbs yet."]
    lines += ["", "Between raters"]
    lines += [f"  {a.kind.capitalize()} · {' & '.join(a.raters)}: {a.summary}" for a in agreements] or [
        f"  {NEEDS_TWO}"]
    lines += ["", "Model-graded checks against the team's thumbs"]
    if not checks:
        lines.append("  No model-graded or similarity check has graded a rated answer yet.")
    for c in checks:
        name = c.key if c.type in c.key else f"{c.key} ({c.type})"  # in words, the type is in it
        lines.append(f"  {'⚠ ' if c.flagged else ''}{name}: {c.summary}")
        if c.shared:
            lines.append(f"      check passed: {c.pass_up} up / {c.pass_down} down · "
                         f"check failed: {c.fail_up} up / {c.fail_down} down")
    lines += ["", "Position bias in blind A/B"]
    lines += [f"  {'⚠ ' if b.biased else ''}{b.rater}: {b.summary}" for b in bias] or [
        "  No blind votes yet."]
    return lines


def _thumb_lines(names: list[str], per_rater: dict[str, Tally]) -> list[str]:
    """One line per variant, each rater's thumbs on it side by side: at 4 profiles x 3 models one
    paragraph per rater was a wall of text in which no variant could be compared across raters."""
    labels: dict[str, str] = {}
    for name in names:
        labels.update(per_rater[name].labels)
    order = list(dict.fromkeys(v for name in names for v in per_rater[name].variants))
    lines = []
    for variant in order:
        parts = []
        for name in names:
            up, down = per_rater[name].thumbs.get(variant, (0, 0))
            if up + down:
                parts.append(f"{name} {up} up, {down} down")
        if parts:
            lines.append(f"  {labels.get(variant, variant)}: {' · '.join(parts)}")
    return lines
