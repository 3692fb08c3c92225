"""The Bradley-Terry leaderboard as a picture: one row per variant, best first, a dot for the score
and a whisker for its 95% confidence interval. Overlapping whiskers mean "not clearly different".

Painted with QPainter from palette colours only, so it reads in dark and light themes alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.core.scoring import ELO_BASE, VariantScore
from app.ui.plain import plain_tip

ROW_HEIGHT = 34
AXIS_HEIGHT = 46
EMPTY_TEXT = "No pairwise votes yet.\nOpen the Compare A/B tab, pick two columns and vote (keys 1-4)."


def nice_step(span: float, target_ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about `target_ticks` ticks."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power


class LeaderboardChart(QWidget):
    """Horizontal dot-and-whisker chart of `VariantScore`s that have a Bradley-Terry score."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[VariantScore] = []
        self._empty_text = EMPTY_TEXT
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(360)

    # -- data ----------------------------------------------------------------------------------------

    def set_scores(self, rows: list[VariantScore]) -> None:
        """Show these rows (those without a score are left out), best first."""
        scored = [r for r in rows if r.bt_score is not None]
        scored.sort(key=lambda r: -(r.bt_score or 0.0))
        self._rows = scored
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def rows(self) -> list[VariantScore]:
        return list(self._rows)

    def set_empty_text(self, text: str) -> None:
        self._empty_text = text
        self.update()

    def sizeHint(self) -> QSize:
        rows = max(len(self._rows), 2)
        return QSize(640, 12 + rows * ROW_HEIGHT + AXIS_HEIGHT)

    # -- geometry ------------------------------------------------------------------------------------

    def _range(self) -> tuple[float, float]:
        values = [ELO_BASE]
        for r in self._rows:
            values += [v for v in (r.bt_score, r.ci_low, r.ci_high) if v is not None]
        lo, hi = min(values), max(values)
        pad = max((hi - lo) * 0.08, 10.0)
        return lo - pad, hi + pad

    def _layout(self) -> tuple[QRectF, float, float]:
        """(plot area, label column width, value column width)."""
        metrics = QFontMetrics(self.font())
        widest = max((metrics.horizontalAdvance(self._label_text(i, r)) for i, r in enumerate(self._rows)),
                     default=0)
        label_w = min(widest + 16, self.width() * 0.42)
        value_w = metrics.horizontalAdvance("0000 ±000") + 16
        plot = QRectF(label_w, 6, max(self.width() - label_w - value_w - 8, 40), len(self._rows) * ROW_HEIGHT)
        return plot, label_w, value_w

    @staticmethod
    def _label_text(index: int, row: VariantScore) -> str:
        return f"{index + 1}.  {row.label}"

    # -- painting ------------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        if not self._rows:
            faint = QColor(text)
            faint.setAlphaF(0.6)
            painter.setPen(faint)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._empty_text)
            painter.end()
            return
        plot, label_w, _value_w = self._layout()
        lo, hi = self._range()

        def x_of(value: float) -> float:
            return plot.left() + (value - lo) / (hi - lo) * plot.width()

        self._paint_grid(painter, plot, (lo, hi), x_of, text)
        accent = palette.color(QPalette.ColorRole.Highlight)
        band = QColor(text)
        band.setAlphaF(0.05)
        metrics = QFontMetrics(self.font())
        for index, row in enumerate(self._rows):
            top = plot.top() + index * ROW_HEIGHT
            mid = top + ROW_HEIGHT / 2
            if index % 2 == 0:
                painter.fillRect(QRectF(0, top, self.width(), ROW_HEIGHT), band)
            painter.setPen(text)
            label = metrics.elidedText(self._label_text(index, row), Qt.TextElideMode.ElideRight,
                                       int(label_w - 16))
            painter.drawText(QRectF(8, top, label_w - 16, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
            score = row.bt_score or ELO_BASE
            if row.ci_low is not None and row.ci_high is not None:
                whisker = QColor(text)
                whisker.setAlphaF(0.75)
                painter.setPen(QPen(whisker, 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
                x0, x1 = x_of(row.ci_low), x_of(row.ci_high)
                painter.drawLine(QPointF(x0, mid), QPointF(x1, mid))
                painter.drawLine(QPointF(x0, mid - 6), QPointF(x0, mid + 6))
                painter.drawLine(QPointF(x1, mid - 6), QPointF(x1, mid + 6))
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 2))
            painter.setBrush(accent)
            painter.drawEllipse(QPointF(x_of(score), mid), 6.5, 6.5)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(text)
            value = f"{score:.0f}"
            if row.ci_low is not None and row.ci_high is not None:
                value += f" ±{(row.ci_high - row.ci_low) / 2:.0f}"
            painter.drawText(QRectF(plot.right() + 10, top, self.width() - plot.right() - 12, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, value)
        painter.end()

    def _paint_grid(self, painter: QPainter, plot: QRectF, span: tuple[float, float],
                    x_of: Callable[[float], float], text: QColor) -> None:
        lo, hi = span
        grid = QColor(text)
        grid.setAlphaF(0.15)
        faint = QColor(text)
        faint.setAlphaF(0.65)
        step = nice_step(hi - lo)
        tick = math.ceil(lo / step) * step
        axis_y = plot.bottom() + 4
        while tick <= hi:
            x = x_of(tick)
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, axis_y))
            painter.setPen(faint)
            painter.drawText(QRectF(x - 40, axis_y + 2, 80, 16), Qt.AlignmentFlag.AlignHCenter, f"{tick:.0f}")
            tick += step
        average = QColor(text)
        average.setAlphaF(0.45)
        painter.setPen(QPen(average, 1, Qt.PenStyle.DashLine))
        x = x_of(ELO_BASE)
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, axis_y))
        painter.setPen(faint)
        painter.drawText(
            QRectF(0, axis_y + 20, self.width(), 18), Qt.AlignmentFlag.AlignHCenter,
            "Bradley-Terry score (1000 = average) · whiskers: 95% interval",
        )

    # -- tooltips ------------------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            row = self.row_at(event.pos().y())
            if row is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), plain_tip(describe(row)), self)
            return True
        return super().event(event)

    def row_at(self, y: float) -> VariantScore | None:
        if not self._rows:
            return None
        plot, _label_w, _value_w = self._layout()
        index = int((y - plot.top()) // ROW_HEIGHT)
        return self._rows[index] if 0 <= index < len(self._rows) and y >= plot.top() else None


def describe(row: VariantScore) -> str:
    """A plain-words summary of one variant, for tooltips."""
    lines = [row.label]
    if row.bt_score is not None:
        score = f"Score {row.bt_score:.0f}"
        if row.ci_low is not None and row.ci_high is not None:
            score += f" (95% CI {row.ci_low:.0f} to {row.ci_high:.0f})"
        lines.append(score)
    if row.win_rate is not None:
        lines.append(f"Won {row.win_rate:.0%} of comparisons: "
                     f"{row.wins} won, {row.losses} lost, {row.ties} tied")
    if row.both_bad:
        lines.append(f"Both bad: {row.both_bad}")
    if row.thumb_rate is not None:
        lines.append(f"Thumbs up: {row.thumb_rate:.0%} ({row.thumbs_up} of {row.rated} rated)")
    return "\n".join(lines)
