"""Evals tab and seeding against the team's ratings: flag a check that disagrees, show support."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from evals_kit import PROTO
from fakeserver import FakeOpenAI

from app.core.document import parse_prototype
from app.core.prototype import AssertionResult, EvalResult, EvalRun, Rating, Run
from app.core.seeding import propose, team_support
from app.ui.document_model import Document
from app.ui.evals_panel import EvalsPanel


@pytest.fixture
def document(scripted: FakeOpenAI, tmp_path: Path) -> Document:
    document = Document(parse_prototype(PROTO.format(base_url=scripted.base_url)), tmp_path / "p.yaml")
    thumbs = ["up", "up", "up", "down", "down", "down"]
    for index, thumb in enumerate(thumbs):
        document.proto.runs.append(Run(
            id=f"r{index}", created="2026-11-22T06:00:00Z", profile="bullets", model="fake", case="fruits",
            sample=index, output=f"answer {index}",
            ratings=[Rating(rater="ana", thumb=thumb), Rating(rater="bo", thumb=thumb)],  # type: ignore[arg-type]
        ))
    return document


@pytest.fixture
def panel(qtbot, document: Document) -> Iterator[EvalsPanel]:
    widget = EvalsPanel(document)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def test_a_judge_that_disagrees_with_the_team_is_flagged(
    qtbot, panel: EvalsPanel, document: Document
) -> None:
    assert panel.team_flags.isHidden()
    passed = [False, False, True, True, True, False]  # agrees on 2 of 6 answers: kappa -1/3
    document.proto.evals.append(EvalRun(id="e1", created="2026-11-23T00:00:00Z", pass_rate=0.5, results=[
        EvalResult(case="fruits", profile="bullets", model="fake", run=f"r{i}", passed=ok, score=float(ok),
                   assertions=[AssertionResult(type="llm-rubric", passed=ok, score=float(ok),
                                               key="assert[0]")])
        for i, ok in enumerate(passed)
    ]))
    document.evals_edited()
    qtbot.waitUntil(lambda: not panel.team_flags.isHidden(), timeout=10_000)
    text = panel.team_flags.text()
    assert text.startswith("⚠ fruits: assert[0] (llm-rubric) disagrees with the team's thumbs")
    assert "passed on 1 up / 2 down, failed on 2 up / 1 down" in text


def test_proposals_show_how_the_team_rated_their_source(panel: EvalsPanel, document: Document) -> None:
    document.proto.run("r0").ratings.append(Rating(rater="cleo", thumb="down"))
    proposals = propose(document.proto)
    from_r0 = next(p for p in proposals if p.run == "r0")
    assert from_r0.assertion.type == "similar"
    assert team_support(document.proto, from_r0) == "2 of 3 rater(s) agree (2 up, 1 down)"
    dialog = panel.propose()
    assert dialog is not None
    texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert any("team: 2 of 3 rater(s) agree (2 up, 1 down)" in t for t in texts)
    dialog.reject()
