""""All cases compared" in the A/B tab: a real finished state, not two empty answer panes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QTabWidget
from test_pairwise import FIRST, SECOND, scoring_document

from app.core.ab_outcome import outcome_words, pair_outcome
from app.core.matchups import matchups
from app.ui.document_model import Document
from app.ui.pairwise import PairwiseView


@pytest.fixture
def view(qtbot) -> PairwiseView:
    document = scoring_document(n_cases=3, profiles=("p1", "p2"))
    document.set_rater("ana")
    shown = PairwiseView(document, seed=1)
    shown.reveal_ms = 0
    shown.blind_check.setChecked(False)  # left is always the first variant
    qtbot.addWidget(shown)
    shown.resize(1000, 600)
    shown.show()
    return shown


def _core_words(document: Document) -> str:
    proto = document.proto
    outcome = pair_outcome(proto, matchups(proto, FIRST, SECOND), FIRST, SECOND, document.rater)
    return "\n".join(outcome_words(proto, outcome))


def test_done_page_says_what_was_compared_and_offers_next_steps(view: PairwiseView) -> None:
    for verdict in ("a", "a", "tie"):
        view.vote(verdict)  # type: ignore[arg-type]
    assert view.current() is None
    assert view.stack.currentWidget().objectName() == "pairwise-done"
    assert not view.left_view.isVisible() and not view.right_view.isVisible()  # no empty panes
    summary = view.done_summary.text()
    assert summary == _core_words(view.document)
    assert "3 cases compared, 3 votes by ana (3)." in summary
    assert "Profile p1 × Tiny won 2, Profile p2 × Tiny won 0; 1 tie" in summary
    assert view.done_title.text() == "All 3 cases compared"
    assert view.done_last_vote.isVisible() and "Tie" in view.done_last_vote.text()
    assert view.again_button.isVisible() and view.again_button.text() == "Vote again on 1 tie or disagreement"
    assert not view.mine_button.isVisible()  # ana voted on everything
    assert view.results_button.isVisible() and view.rater_button.isVisible()


def test_vote_again_goes_through_the_ties_only_then_comes_back(view: PairwiseView, qtbot) -> None:
    view.vote("tie")
    view.vote("a")
    view.vote("both_bad")
    assert view.again_button.text() == "Vote again on 2 ties or disagreements"
    view.again_button.click()
    assert view.stack.currentIndex() == 0 and view.current() is not None
    assert view.current().case == "c0"
    assert "voting again, 1 more" in view.progress_label.text()
    view.vote("b")
    assert view.current() is not None and view.current().case == "c2"  # c1 (decided) is skipped
    view.vote("a")
    assert view.stack.currentWidget().objectName() == "pairwise-done"
    assert not view.again_button.isVisible()  # ana's newest votes picked a side everywhere
    assert view.done_summary.text() == _core_words(view.document)


def test_another_rater_is_offered_the_cases_they_have_not_voted_on(view: PairwiseView) -> None:
    for verdict in ("a", "b", "a"):
        view.vote(verdict)  # type: ignore[arg-type]
    view.document.set_rater("bo")
    assert view.mine_button.isVisible()
    assert view.mine_button.text() == "Vote as bo on the 3 cases you have not voted on"
    view.mine_button.click()
    assert view.current() is not None and view.current().case == "c0"
    for verdict in ("a", "a", "a"):
        view.vote(verdict)  # type: ignore[arg-type]
    assert view.stack.currentWidget().objectName() == "pairwise-done"
    assert not view.mine_button.isVisible()
    assert "6 votes by ana (3), bo (3)." in view.done_summary.text()
    assert view.again_button.text() == "Vote again on 1 tie or disagreement"  # c1: ana b, bo a


def test_open_results_and_switch_rater_reach_the_window(qtbot, make_window, proto_file: Path,
                                                        monkeypatch) -> None:
    window = make_window(proto_file)
    pairwise = window.extra["Compare A/B"]
    assert isinstance(pairwise, PairwiseView)
    pairwise.results_button.click()
    assert window.tabs.currentWidget() is window.extra["Results"]
    opened: list[bool] = []
    from app.ui.settings_dialog import SettingsDialog

    def fake_exec(dialog: SettingsDialog) -> int:  # a modal dialog would hang the test
        opened.append(dialog.findChild(QTabWidget).currentWidget() is dialog.rater)
        return 0

    monkeypatch.setattr(SettingsDialog, "exec", fake_exec)
    pairwise.rater_button.click()
    assert opened == [True]  # Settings opened on its "You (rater)" page
