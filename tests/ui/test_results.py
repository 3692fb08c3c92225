"""Results panel and leaderboard chart: numbers from app.core.scoring, computed off the GUI thread."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPalette
from PySide6.QtWidgets import QApplication, QToolTip
from test_pairwise import scoring_document

from app.core.prototype import Preference, Rating
from app.core.scoring import Variant, leaderboard
from app.ui import results_panel
from app.ui.document_model import Document
from app.ui.leaderboard_chart import ROW_HEIGHT, LeaderboardChart, nice_step
from app.ui.pairwise import PairwiseView
from app.ui.results_panel import ResultsPanel

P1, P2, P3 = Variant("p1", "m"), Variant("p2", "m"), Variant("p3", "m")
P1_LABEL = "Profile p1 × Tiny"


@pytest.fixture(autouse=True)
def quick_debounce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results_panel, "DEBOUNCE_MS", 10)


@pytest.fixture
def make_panel(qtbot):
    def make(document: Document) -> ResultsPanel:
        panel = ResultsPanel(document)
        panel.samples = 200
        qtbot.addWidget(panel)
        panel.resize(900, 700)
        panel.show()
        qtbot.waitUntil(lambda: not panel.busy)
        return panel
    return make


def add_vote(document: Document, a: str, b: str, verdict: str, case: str = "c0", *,
             blind: bool = True) -> None:
    document.add_preference(Preference(id=f"pref-{len(document.proto.preferences)}", created="x",
                                       a=f"run-{a}-{case}", b=f"run-{b}-{case}", verdict=verdict,
                                       blind=blind))


def cell(panel: ResultsPanel, label: str, column: str) -> str:
    table = panel.table
    columns = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    for row in range(table.rowCount()):
        if table.item(row, 0).text() == label:
            return table.item(row, columns.index(column)).text()
    raise AssertionError(f"no row {label!r}")


def matrix_cell(panel: ResultsPanel, row_label: str, column_label: str) -> str:
    matrix = panel.matrix
    # rows read "1. name"; columns are the same numbers
    labels = [matrix.verticalHeaderItem(r).text().split(". ", 1)[1] for r in range(matrix.rowCount())]
    assert [matrix.horizontalHeaderItem(c).text() for c in range(matrix.columnCount())] == [
        str(n) for n in range(1, len(labels) + 1)]
    return matrix.item(labels.index(row_label), labels.index(column_label)).text()


def test_empty_state_tells_what_to_do(make_panel) -> None:
    panel = make_panel(scoring_document())
    assert panel.stack.currentWidget() is panel.empty_label
    assert "Compare A/B" in panel.empty_label.text() and "thumbs up" in panel.empty_label.text()


def test_votes_appear_as_numbers_after_the_worker(
    make_panel, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = scoring_document(n_cases=4)
    panel = make_panel(document)
    scorer_threads: set[int] = set()
    real_rank = results_panel.rank

    def spy(*args, **kwargs):
        scorer_threads.add(threading.get_ident())
        return real_rank(*args, **kwargs)

    monkeypatch.setattr(results_panel, "rank", spy)
    document.set_rating("run-p1-c0", Rating(thumb="up"))
    document.set_rating("run-p1-c1", Rating(thumb="down"))
    document.set_rating("run-p1-c2", Rating(thumb="up"))
    for case in ("c0", "c1", "c2"):
        add_vote(document, "p1", "p2", "a", case)
    add_vote(document, "p2", "p1", "tie", "c3")
    add_vote(document, "p2", "p3", "a")
    add_vote(document, "p3", "p1", "both_bad", blind=False)
    with qtbot.waitSignal(panel.sig_scored, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: not panel.busy)
    assert scorer_threads and threading.get_ident() not in scorer_threads, "scoring runs off the GUI thread"
    assert panel.stack.currentIndex() == 0
    expected = {r.variant: r for r in leaderboard(document.proto, samples=200)}
    p1 = expected[P1]
    assert cell(panel, "Profile p1 × Tiny", "Thumbs up") == "67%  (2 of 3)"
    assert cell(panel, "Profile p1 × Tiny", "Win rate") == f"{(3 + 0.5) / 4:.0%}"
    assert cell(panel, "Profile p1 × Tiny", "Won / lost / tied") == "3 / 0 / 1"
    assert cell(panel, "Profile p1 × Tiny", "Both bad") == "1"
    assert cell(panel, "Profile p1 × Tiny", "Score") == f"{p1.bt_score:.0f}"
    assert cell(panel, "Profile p1 × Tiny", "95% CI") == f"{p1.ci_low:.0f} – {p1.ci_high:.0f}"
    assert cell(panel, "Profile p1 × Tiny", "Votes") == "5"
    assert panel.table.item(0, 0).text() == "Profile p1 × Tiny", "best first"
    ranked = leaderboard(document.proto, samples=0)
    assert [r.variant for r in panel.chart.rows()] == [r.variant for r in ranked]
    assert "6 votes (5 blind)" in panel.status_label.text()
    # Head to head: p1 beat p2 3 times and tied once -> 88% from p1's row, 12% from p2's.
    assert matrix_cell(panel, "Profile p1 × Tiny", "Profile p2 × Tiny") == "88%"
    assert matrix_cell(panel, "Profile p2 × Tiny", "Profile p1 × Tiny") == "12%"
    assert matrix_cell(panel, "Profile p1 × Tiny", "Profile p3 × Tiny") == "both bad"


def test_blind_only_toggle_rescored(make_panel, qtbot) -> None:
    document = scoring_document(n_cases=2, profiles=("p1", "p2"))
    add_vote(document, "p1", "p2", "a", blind=True)
    add_vote(document, "p1", "p2", "b", "c1", blind=False)
    panel = make_panel(document)
    assert cell(panel, "Profile p1 × Tiny", "Won / lost / tied") == "1 / 1 / 0"
    with qtbot.waitSignal(panel.sig_scored, timeout=10_000):
        panel.blind_check.setChecked(True)
    assert cell(panel, "Profile p1 × Tiny", "Won / lost / tied") == "1 / 0 / 0"
    assert "1 blind votes" in panel.status_label.text()


def test_votes_from_the_pairwise_view_reach_the_panel(make_panel, qtbot) -> None:
    document = scoring_document(n_cases=3, profiles=("p1", "p2"))
    panel = make_panel(document)
    view = PairwiseView(document, seed=5)
    view.reveal_ms = 0
    qtbot.addWidget(view)
    for _ in range(3):
        view.vote("tie")
    qtbot.waitUntil(lambda: not panel.busy and cell(panel, P1_LABEL, "Won / lost / tied") == "0 / 0 / 3")
    assert cell(panel, "Profile p1 × Tiny", "Win rate") == "50%"


def test_a_burst_of_changes_scores_once(make_panel, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    document = scoring_document(n_cases=5, profiles=("p1", "p2"))
    panel = make_panel(document)
    monkeypatch.setattr(results_panel, "DEBOUNCE_MS", 200)
    panel._debounce.setInterval(200)  # the timer was built with the patched default
    calls = []
    real_collect = results_panel.collect
    monkeypatch.setattr(results_panel, "collect", lambda *a, **k: calls.append(1) or real_collect(*a, **k))
    for case in range(5):
        add_vote(document, "p1", "p2", "a", f"c{case}")
    qtbot.waitUntil(lambda: not panel.busy and cell(panel, P1_LABEL, "Won / lost / tied") == "5 / 0 / 0")
    assert len(calls) == 1


@pytest.mark.parametrize("dark", [False, True])
def test_chart_paints_in_light_and_dark(qtbot, dark: bool) -> None:
    document = scoring_document(n_cases=4)
    for case in ("c0", "c1", "c2", "c3"):
        add_vote(document, "p1", "p2", "a", case)
        add_vote(document, "p2", "p3", "a", case)
    add_vote(document, "p3", "p1", "a")
    chart = LeaderboardChart()
    qtbot.addWidget(chart)
    palette = chart.palette()
    if dark:
        palette.setColor(QPalette.ColorRole.Window, QColor("#202020"))
        palette.setColor(QPalette.ColorRole.WindowText, QColor("#eeeeee"))
        chart.setPalette(palette)
    chart.setAutoFillBackground(True)
    chart.resize(700, 200)
    rows = leaderboard(document.proto, samples=100)
    chart.set_scores(rows)
    image = chart.grab().toImage()
    assert not image.isNull() and image.height() == chart.sizeHint().height()
    accent = palette.color(QPalette.ColorRole.Highlight)
    dots = _pixels_like(image, accent)
    assert dots > 3 * 50, "three score dots are drawn in the highlight colour"
    background = palette.color(QPalette.ColorRole.Window)
    assert _pixels_like(image, background) > image.width() * image.height() // 4
    assert chart.row_at(6 + 10).variant == P1  # type: ignore[union-attr]


def test_chart_tooltip_describes_the_row_under_the_mouse(qtbot) -> None:
    document = scoring_document(n_cases=2, profiles=("p1", "p2"))
    add_vote(document, "p1", "p2", "a")
    add_vote(document, "p1", "p2", "tie", "c1")
    chart = LeaderboardChart()
    qtbot.addWidget(chart)
    chart.resize(600, 150)
    chart.set_scores(leaderboard(document.proto, samples=50))
    chart.show()
    qtbot.waitExposed(chart)
    second_row = QPoint(30, 6 + ROW_HEIGHT + ROW_HEIGHT // 2)
    QApplication.sendEvent(chart, QHelpEvent(QEvent.Type.ToolTip, second_row, chart.mapToGlobal(second_row)))
    tip = QToolTip.text()
    assert "'>Profile p2 × Tiny" in tip and "Won 25% of comparisons: 0 won, 1 lost, 1 tied" in tip


def test_chart_empty_state_paints_text(qtbot) -> None:
    chart = LeaderboardChart()
    qtbot.addWidget(chart)
    chart.resize(500, 120)
    chart.set_scores([])
    image = chart.grab().toImage()
    background = chart.palette().color(QPalette.ColorRole.Window)
    inked = image.width() * image.height() - _pixels_like(image, background, tolerance=60)
    assert inked > 100, "the hint text is drawn"


def test_nice_steps() -> None:
    assert nice_step(400) == 100
    assert nice_step(90) == 20
    assert nice_step(23) == 5


def _pixels_like(image: QImage, colour: QColor, tolerance: int = 30) -> int:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = QColor(image.pixel(x, y))
            if (abs(pixel.red() - colour.red()) + abs(pixel.green() - colour.green())
                    + abs(pixel.blue() - colour.blue())) <= tolerance:
                count += 1
    return count


def test_panel_screenshot_is_not_blank(make_panel, qtbot) -> None:
    document = scoring_document(n_cases=2, profiles=("p1", "p2"))
    add_vote(document, "p1", "p2", "a")
    panel = make_panel(document)
    qtbot.waitUntil(lambda: panel.chart.rows() != [])
    pixmap = panel.grab()
    assert not pixmap.isNull() and pixmap.width() == panel.width()
