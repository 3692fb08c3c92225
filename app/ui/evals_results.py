"""Views of eval results: the cases × variants matrix, the per-assertion table, the pass-rate chart.

Each view is rebuilt from the prototype with `show(proto)`; none keeps data of its own.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from app.core.evals.reasons import case_name, variant_name
from app.core.evals.report import percent
from app.core.evals.summary import EvalSummary, summarize
from app.core.prototype import EvalResult, EvalRun, Prototype
from app.ui.plain import plain_tip

PASS_COLOR = QColor("#c8ecd0")
FAIL_COLOR = QColor("#f6c9c9")
ERROR_COLOR = QColor("#e8e0f4")


def latest_summary(proto: Prototype) -> tuple[EvalRun, EvalSummary] | None:
    if not proto.evals:
        return None
    run = proto.evals[-1]
    return run, summarize(proto, run)


def _item(text: str, tip: str = "", color: QColor | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if tip:
        item.setToolTip(plain_tip(tip))  # assertion reasons quote model output
    if color is not None:
        item.setBackground(QBrush(color))
    return item


def _text(item: QTableWidgetItem | None) -> str:
    return item.text() if item is not None else ""


def _tooltip(result: EvalResult) -> str:
    head = "baseline: " if result.baseline else ""
    if result.error:
        return f"{head}the model call failed: {result.error}"
    lines = [f"{'✓' if a.passed else '✗'} {a.type}: {a.reason}" for a in result.assertions]
    verdict = "passed" if result.passed else "failed"
    return f"{head}{verdict}, score {result.score:.2f}\n" + "\n".join(lines)


class HintTable(QTableWidget):
    """A table that says what to do while it has no rows, instead of showing a blank box."""

    empty_hint = ""

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.rowCount() or not self.empty_hint:
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        area = QRectF(self.viewport().rect()).adjusted(16, 16, -16, -16)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        painter.drawText(area, int(flags), self.empty_hint)
        painter.end()


class PassMatrix(HintTable):
    """Cases × variants of the latest eval run, green or red, reasons on hover; baselines at the right."""

    empty_hint = (
        "No eval run yet. Add checks above (or “Propose from ratings…”), then press Run evals: "
        "every case × variant shows here as passed or failed, with the reasons on hover."
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def show_run(self, proto: Prototype, run: EvalRun | None) -> None:
        self.clear()
        if run is None:
            self.setRowCount(0)
            self.setColumnCount(0)
            return
        cases = list(dict.fromkeys(r.case for r in run.results))
        columns = list(dict.fromkeys((r.profile, r.model, r.baseline) for r in run.results))
        main_models = {(p, m) for p, m, b in columns if not b}
        # one baseline column per model: its results are the same for every profile
        shown = [c for c in columns if not c[2]]
        seen_models: set[str] = set()
        for profile, model, baseline in columns:
            if baseline and model not in seen_models and (profile, model) in main_models:
                seen_models.add(model)
                shown.append((profile, model, True))
        self.setRowCount(len(cases))
        self.setColumnCount(len(shown))
        self.setVerticalHeaderLabels([case_name(proto, c) for c in cases])  # the designer's names
        self.setHorizontalHeaderLabels([variant_name(proto, p, m, baseline=b) for p, m, b in shown])
        index = {(r.case, r.profile, r.model, r.baseline): r for r in run.results}
        for row, case in enumerate(cases):
            for col, (profile, model, baseline) in enumerate(shown):
                result = index.get((case, profile, model, baseline))
                if result is None:
                    self.setItem(row, col, _item("–"))
                    continue
                if result.error:
                    cell = _item("error", _tooltip(result), ERROR_COLOR)
                else:
                    mark = "✓" if result.passed else "✗"
                    cell = _item(
                        f"{mark} {result.score:.2f}",
                        _tooltip(result),
                        PASS_COLOR if result.passed else FAIL_COLOR,
                    )
                self.setItem(row, col, cell)

    def cell_passed(self, case: str, column_label: str) -> bool | None:
        """For tests and accessibility: whether the cell passed, None when missing."""
        rows = [_text(self.verticalHeaderItem(r)) for r in range(self.rowCount())]
        cols = [_text(self.horizontalHeaderItem(c)) for c in range(self.columnCount())]
        if case not in rows or column_label not in cols:
            return None
        item = self.item(rows.index(case), cols.index(column_label))
        return item.text().startswith("✓") if item is not None else None


class AssertionTable(HintTable):
    """Pass rate per assertion, with the baseline's and the discrimination when a baseline ran."""

    empty_hint = "No eval run yet: press Run evals to see how often each check passes."

    HEADERS = ("Assertion", "Pass rate", "Baseline", "Discrimination")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def show_summary(self, summary: EvalSummary | None) -> None:
        stats = summary.assertions if summary else []
        self.setRowCount(len(stats))
        for row, stat in enumerate(stats):
            self.setItem(row, 0, _item(stat.label, stat.ident))
            self.setItem(row, 1, _item(percent(stat.tally)))
            has = summary is not None and summary.has_baseline
            self.setItem(row, 2, _item(percent(stat.baseline) if has else "–"))
            disc = stat.discrimination
            text = "–" if disc is None else f"{disc * 100:.0f}%"
            color = None
            if stat.not_discriminating:
                text += "  not discriminating"
                color = FAIL_COLOR
            tip = (
                "How often the prompted baseline (no system prompt) fails where the prototype passes. "
                "An assertion the baseline passes too does not measure what the profile adds."
            )
            self.setItem(row, 3, _item(text, tip, color))


class PassRateChart(QWidget):
    """Pass rate (and baseline pass rate, dashed) over the file's eval runs, oldest at the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rates: list[float] = []
        self.baselines: list[float | None] = []
        self.setMinimumHeight(140)

    def show_runs(self, runs: list[EvalRun]) -> None:
        self.rates = [r.pass_rate for r in runs]
        self.baselines = [r.baseline_pass_rate for r in runs]
        history = "\n".join(f"{r.created}  {r.pass_rate * 100:.0f}%  {r.id}" for r in runs[-15:])
        self.setToolTip(plain_tip(history))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(40, 12, -12, -24)
        text_pen = QPen(self.palette().color(self.foregroundRole()))
        painter.setPen(QPen(QColor("#bbbbbb"), 1))
        for fraction in (0.0, 0.5, 1.0):
            y = area.bottom() - fraction * area.height()
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(text_pen)
            painter.drawText(QRectF(0, y - 8, 36, 16), Qt.AlignmentFlag.AlignRight, f"{fraction * 100:.0f}%")
            painter.setPen(QPen(QColor("#bbbbbb"), 1))
        if not self.rates:
            painter.setPen(text_pen)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "No eval runs yet: press Run evals")
            painter.end()
            return
        painter.setPen(text_pen)
        painter.drawText(
            QRectF(area.left(), area.bottom() + 4, area.width(), 18),
            Qt.AlignmentFlag.AlignCenter,
            f"{len(self.rates)} eval runs, latest {self.rates[-1] * 100:.0f}%",
        )
        self._line(painter, area, self.rates, QColor("#2e7d32"), Qt.PenStyle.SolidLine)
        if any(b is not None for b in self.baselines):
            self._line(painter, area, self.baselines, QColor("#9e9e9e"), Qt.PenStyle.DashLine)
        painter.end()

    def _line(
        self,
        painter: QPainter,
        area: QRectF,
        values: list[float] | list[float | None],
        color: QColor,
        style: Qt.PenStyle,
    ) -> None:
        step = area.width() / max(len(values) - 1, 1)
        points = [
            QPointF(
                area.left() + i * step if len(values) > 1 else area.center().x(),
                area.bottom() - v * area.height(),
            )
            for i, v in enumerate(values)
            if v is not None
        ]
        painter.setPen(QPen(color, 2, style))
        painter.drawPolyline(QPolygonF(points))
        painter.setBrush(QBrush(color))
        for point in points:
            painter.drawEllipse(point, 3, 3)
