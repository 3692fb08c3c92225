"""Editors fit their pane and navigator names stay readable at the two window sizes designers use."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakeserver import FakeOpenAI
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QScrollArea
from ui_prototypes import fake_prototype

from app.core.document import save_prototype
from app.core.prototype import Case, Rule, Run, SimulatedUser, Turn

SIZES = [(1280, 800), (1600, 1000)]
LONG_START = "Customer asks for a refund after the free trial ended and the card was charged twice"


def _file(tmp_path: Path, server: FakeOpenAI) -> Path:
    proto = fake_prototype(server.base_url)
    proto.profiles[0].behavior_spec = [
        Rule(id="r1", rule="Always state the refund policy before offering anything else, in one sentence.",
             good=["Our policy: refunds within 14 days."], bad=["Sure, here is your money!"]),
    ]
    proto.cases[0].simulated_user = SimulatedUser(persona="A busy PM who wants the number",
                                                  goal="get 18% of $64")
    proto.cases += [
        Case(id="long-angry", description=f"{LONG_START}, angry", turns=[Turn(content="Refund now!")]),
        Case(id="long-polite", description=f"{LONG_START}, polite",
             turns=[Turn(content="Could I get a refund?")]),
    ]
    proto.profiles[0].name = "Support agent, formal and careful with policy wording"
    proto.profiles[1].name = "Support agent, warm and informal, answers in short sentences"
    proto.runs = [Run(id=f"run-{p}", created="2026-11-30T06:00:00Z", profile=p, model="fake", case="c2",
                      output="An answer.") for p in ("p1", "p2")]  # two variants to pick in Compare A/B
    path = tmp_path / "fit.yaml"
    save_prototype(proto, path)
    return path


def _settle(qtbot, window, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)
    QApplication.processEvents()


@pytest.mark.parametrize("size", SIZES)
def test_no_editor_scrolls_sideways(qtbot, make_window, tmp_path: Path, fake_server: FakeOpenAI,
                                    size: tuple[int, int]) -> None:
    window = make_window(_file(tmp_path, fake_server))
    ab = window.extra["Compare A/B"]
    ab.blind_check.setChecked(False)  # the names on the answer panes (and after every blind vote)
    window.tabs.setCurrentWidget(ab)  # its long variant names once widened the window past the screen
    _settle(qtbot, window, size)
    window.splitter.setSizes([200, 300, size[0] - 500])  # the first-start sizes: the narrowest editor pane
    QApplication.processEvents()
    assert window.splitter.sizes()[:2] == [200, 300], "the right-hand tab squeezed the editor pane"
    assert window.minimumSizeHint().width() <= size[0], "the window cannot be made this narrow"
    for kind, item_id in (("profiles", "p1"), ("models", "fake"), ("cases", "c1")):
        window.navigator.select(kind, item_id)
        qtbot.waitUntil(lambda k=kind, i=item_id: (window.editor.kind, window.editor.item_id) == (k, i))
        scroll = window.editor.currentWidget()
        assert isinstance(scroll, QScrollArea)
        if kind == "profiles":
            assert window.editor.profile_editor.spec.isVisibleTo(window.editor.profile_editor)
        if kind == "cases":
            assert window.editor.case_editor.findChild(object, "sim-enabled").isChecked()
        bar = scroll.horizontalScrollBar()
        QApplication.processEvents()
        qtbot.waitUntil(lambda s=scroll: s.widget().width() > 0)
        assert bar.maximum() == 0, (
            f"the {kind} editor is {scroll.widget().minimumSizeHint().width()} px wide in a "
            f"{scroll.viewport().width()} px pane at {size}"
        )


def _shown_text(nav_list, row) -> str:
    """What a person sees of a row: its text elided to the row's room beside the check box, then cut
    where the list's viewport ends (a row wider than the list is clipped, not elided)."""
    indicator = nav_list.style().pixelMetric(nav_list.style().PixelMetric.PM_IndicatorWidth) + 12
    metrics = nav_list.fontMetrics()
    room = nav_list.visualItemRect(row).width() - indicator
    painted = metrics.elidedText(row.text(), nav_list.textElideMode(), room)
    visible = nav_list.viewport().width() - indicator
    if metrics.horizontalAdvance(painted) <= visible:
        return painted
    while painted and metrics.horizontalAdvance(painted) > visible:
        painted = painted[:-1]
    return painted


@pytest.mark.parametrize("size", SIZES)
def test_long_case_names_stay_told_apart(qtbot, make_window, tmp_path: Path, fake_server: FakeOpenAI,
                                         size: tuple[int, int]) -> None:
    """Two long names that differ only at the end: both ends show, and the tooltip has the whole name."""
    window = make_window(_file(tmp_path, fake_server))
    _settle(qtbot, window, size)
    nav_list = window.navigator.findChild(object, "nav-cases")
    items = [nav_list.item(n) for n in range(nav_list.count())]
    rows = {row.data(Qt.ItemDataRole.UserRole): row for row in items}
    angry, polite = rows["long-angry"], rows["long-polite"]
    shown = (_shown_text(nav_list, angry), _shown_text(nav_list, polite))
    assert shown[0] != shown[1], shown
    assert shown[0].endswith("angry") and shown[1].endswith("polite"), shown
    assert shown[0].startswith("Customer"), shown
    assert f"{LONG_START}, angry" in angry.toolTip()
    assert "long-angry" in angry.toolTip()  # the id is still there for people editing YAML
    assert nav_list.horizontalScrollBar().maximum() == 0
