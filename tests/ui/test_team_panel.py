"""The Team tab: agreement between raters, checks against the team, position bias, thumbs per rater."""

from __future__ import annotations

import pytest
from test_pairwise import scoring_document

from app.core.prototype import Assertion, AssertionResult, EvalResult, EvalRun, Preference, Rating
from app.ui import team_panel
from app.ui.team_panel import TeamPanel


@pytest.fixture(autouse=True)
def quick_debounce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(team_panel, "DEBOUNCE_MS", 10)


def test_team_panel_shows_agreement_checks_and_bias(qtbot) -> None:
    document = scoring_document(n_cases=6, profiles=("p1",))
    panel = TeamPanel(document)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: not panel.busy)
    assert "at least two raters" in panel.text.text()

    ana, bo = ["up", "up", "up", "down", "down", "down"], ["up", "up", "down", "down", "down", "up"]
    for case in range(6):
        for rater, thumbs in (("ana", ana), ("bo", bo)):
            document.set_rater(rater)
            document.set_rating(f"run-p1-c{case}", Rating(thumb=thumbs[case]))  # type: ignore[arg-type]
    document.proto.default_assert = [Assertion(type="llm-rubric", value="Is polite to the user")]
    document.proto.evals.append(EvalRun(id="e1", created="2026-01-01T00:00:00Z", pass_rate=0.5, results=[
        EvalResult(case=f"c{case}", profile="p1", model="m", run=f"run-p1-c{case}", passed=case % 2 == 0,
                   score=1.0, assertions=[AssertionResult(type="llm-rubric", passed=case % 2 == 0, score=1.0,
                                                          key="default_assert[0]")])
        for case in range(6)
    ]))
    document.evals_edited()
    for index in range(6):
        document.add_preference(Preference(id=f"v{index}", created="1", a="run-p1-c0", b="run-p1-c1",
                                           verdict="b", blind=True, swapped=True))
    with qtbot.waitSignal(panel.sig_updated, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: not panel.busy)
    text = panel.text.text()
    assert "Thumbs · ana & bo: fair agreement, 6 shared answers (Cohen's kappa 0.33)" in text
    # a variant's raters on one line
    assert "  Profile p1 × Tiny: ana 3 up, 3 down · bo 3 up, 3 down\n" in text
    assert "bo: 100% of 6 decisive blind votes went to the left" in text  # b shown left, b chosen
    [check] = panel.checks
    assert check.shared == 4  # c2 and c5 split 1-1: no team thumb
    assert check.value == pytest.approx(0.0)
    assert "default_assert[0]" not in text  # the check in words, not its YAML key
    assert ('llm-rubric "Is polite to the user" (all cases): slight agreement with the team\'s thumbs, '
            "4 outputs (kappa 0.00); too few rated outputs (fewer than 5) to judge it") in text
