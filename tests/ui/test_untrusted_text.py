"""Model output, server errors and file content are shown as literal text: Qt must never read them as HTML.

Qt guesses rich text from a label's or a tooltip's content, so `<img src="file:///...">` in an answer
would otherwise load a local file into the UI.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt  # mightBeRichText lives in QtGui
from PySide6.QtGui import QTextDocument

from app.core.prototype import AssertionResult, EvalResult, EvalRun, Prototype, Run
from app.ui.cell_widget import CellWidget, ElidedLabel
from app.ui.evals_results import PassMatrix
from app.ui.plain import plain_tip

HOSTILE = '<img src="file:///etc/hostname"> <b>bold</b>'


def shown_tip(tip: str) -> str:
    """What a tooltip displays: Qt renders a rich-text-looking tip as HTML, so render it the same way."""
    if not GuiQt.mightBeRichText(tip):
        return tip
    doc = QTextDocument()
    doc.setHtml(tip)
    return doc.toPlainText()


def test_plain_tip_is_shown_literally() -> None:
    tip = plain_tip(HOSTILE + "\nsecond line")
    assert "&lt;img" in tip and "<img" not in tip and "<b>" not in tip
    assert shown_tip(tip) == HOSTILE + "\nsecond line"
    assert plain_tip("") == ""


def test_a_cell_shows_hostile_output_and_error_as_text(qtbot) -> None:
    cell = CellWidget(("c", "p", "m"), HOSTILE)
    qtbot.addWidget(cell)
    run = Run(
        id="r1", created="2026-11-22T08:00:00Z", profile="p", model="m", case="c",
        output=HOSTILE, status="error", error=f"server said {HOSTILE}",
    )
    cell.show_thread([run])
    assert cell.status.textFormat() == Qt.TextFormat.PlainText
    assert HOSTILE in cell.status.text()
    assert "&lt;img" in cell.status.toolTip() and "<img" not in cell.status.toolTip()
    assert HOSTILE in shown_tip(cell.status.toolTip())
    assert cell.error.textFormat() == Qt.TextFormat.PlainText
    assert f"server said {HOSTILE}" in cell.error.text()
    assert "<b>" in cell.view.toPlainText()  # the answer itself: raw HTML shown as text


def test_an_elided_label_is_plain_from_the_start(qtbot) -> None:
    label = ElidedLabel(HOSTILE)
    qtbot.addWidget(label)
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert shown_tip(label.toolTip()) == HOSTILE


def test_eval_tooltips_quote_reasons_literally(qtbot) -> None:
    proto = Prototype(name="x")
    run = EvalRun(
        id="e1", created="2026-11-22", pass_rate=0.0,
        results=[
            EvalResult(case="c1", profile="p", model="m", passed=False, score=0.0,
                       assertions=[AssertionResult(type="contains", passed=False, score=0.0,
                                                   reason=f"output was {HOSTILE}")]),
            EvalResult(case="c2", profile="p", model="m", passed=False, score=0.0,
                       error=f"HTTP 500: {HOSTILE}"),
        ],
    )
    matrix = PassMatrix()
    qtbot.addWidget(matrix)
    matrix.show_run(proto, run)
    tips = [matrix.item(row, 0).toolTip() for row in range(2)]
    for tip in tips:
        assert "&lt;img" in tip and "<img" not in tip and "<b>" not in tip
    assert f"output was {HOSTILE}" in shown_tip(tips[0])
    assert f"HTTP 500: {HOSTILE}" in shown_tip(tips[1])
