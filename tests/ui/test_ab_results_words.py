"""A/B shows the message as sent (vars filled); Results lists only variants with answers and says in
words when the votes are too few to rank."""

from __future__ import annotations

import pytest
from test_pairwise import make_view, scoring_document  # noqa: F401  (fixture)
from test_results import add_vote, make_panel, quick_debounce  # noqa: F401  (fixtures)

from app.core.prototype import Profile


def test_ab_prompt_has_vars_filled(make_view) -> None:  # noqa: F811
    document = scoring_document()
    for case in document.proto.cases:
        case.vars = {"cat_name": "Tom"}
        case.turns[0].content = "Is {{cat_name}} hungry?"
    view = make_view(document)
    assert "Is Tom hungry?" in view.prompt_label.text()
    assert "{{" not in view.prompt_label.text()


def test_results_skip_variants_without_answers_and_say_when_votes_are_few(
    qtbot, make_panel  # noqa: F811
) -> None:
    document = scoring_document(profiles=("p1", "p2"))
    document.proto.profiles.append(Profile(id="p9", name="Never run"))
    add_vote(document, "p1", "p2", "a")
    add_vote(document, "p1", "p2", "b", case="c1")
    panel = make_panel(document)
    labels = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert labels and not any("Never run" in label for label in labels)
    qtbot.waitUntil(panel.ranking_note.isVisible)
    assert "Too few votes" in panel.ranking_note.text()
    assert panel.matrix.isVisible()
    # beside the leaderboard, not under it
    chart_top = panel.chart.mapTo(panel, panel.chart.rect().topLeft())
    matrix_top = panel.matrix.mapTo(panel, panel.matrix.rect().topLeft())
    assert matrix_top.x() > chart_top.x() + panel.chart.width() - 5
    assert abs(matrix_top.y() - chart_top.y()) < 60


@pytest.mark.parametrize("votes", [40])
def test_many_clear_votes_say_nothing(qtbot, make_panel, votes: int) -> None:  # noqa: F811
    document = scoring_document(n_cases=votes, profiles=("p1", "p2"))
    for n in range(votes):
        add_vote(document, "p1", "p2", "a", case=f"c{n}")
    panel = make_panel(document)
    qtbot.waitUntil(lambda: bool(panel.scores))
    assert not panel.ranking_note.isVisible()
