"""Pairwise mode driven through the real widget: keys, buttons, blind shuffles undone in what is stored."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core.matchups import unshuffle
from app.core.prototype import Case, ModelTarget, Preference, Profile, Prototype, Run, Turn
from app.core.scoring import Variant
from app.ui.document_model import Document
from app.ui.pairwise import EMPTY_NO_SHARED_CASES, EMPTY_NO_VARIANTS, PairwiseView

FIRST, SECOND = Variant("p1", "m"), Variant("p2", "m")
KEY = {"a": Qt.Key.Key_1, "b": Qt.Key.Key_2, "tie": Qt.Key.Key_3, "both_bad": Qt.Key.Key_4}


def answer(profile: str, case: str) -> str:
    return f"answer of {profile} to {case}"


def scoring_document(n_cases: int = 6, profiles: tuple[str, ...] = ("p1", "p2", "p3"),
                     skip: set[tuple[str, str]] | None = None) -> Document:
    """Profiles x one model x cases, one run per cell whose text names its profile and case."""
    cases = [Case(id=f"c{i}", description=f"Case number {i}", turns=[Turn(content=f"Question {i}?")])
             for i in range(n_cases)]
    runs = [
        Run(id=f"run-{p}-{c.id}", created="2026-11-22T06:00:00Z", profile=p, model="m", case=c.id,
            output=answer(p, c.id))
        for p in profiles
        for c in cases
        if (p, c.id) not in (skip or set())
    ]
    proto = Prototype(
        name="pairwise",
        profiles=[Profile(id=p, name=f"Profile {p}") for p in profiles],
        models=[ModelTarget(id="m", provider="local", model="tiny", name="Tiny")],
        cases=cases,
        runs=runs,
    )
    return Document(proto)


@pytest.fixture
def make_view(qtbot):
    def make(document: Document, *, blind: bool = True, seed: int = 1) -> PairwiseView:
        view = PairwiseView(document, seed=seed)
        view.reveal_ms = 0
        qtbot.addWidget(view)
        view.blind_check.setChecked(blind)
        view.resize(900, 500)
        view.show()
        view.activateWindow()
        view.setFocus()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
        return view
    return make


def on_screen(view: PairwiseView) -> tuple[str, str]:
    """The answers as a person sees them: (left "A", right "B")."""
    return view.left_view.toPlainText().strip(), view.right_view.toPlainText().strip()


def test_unshuffle_table() -> None:
    assert [unshuffle(v, False) for v in ("a", "b", "tie", "both_bad")] == ["a", "b", "tie", "both_bad"]
    assert [unshuffle(v, True) for v in ("a", "b", "tie", "both_bad")] == ["b", "a", "tie", "both_bad"]


@pytest.mark.parametrize("pressed", ["a", "b"])
def test_blind_vote_with_keys_undoes_the_shuffle_for_both_orders(make_view, qtbot, pressed: str) -> None:
    document = scoring_document(n_cases=8)
    view = make_view(document)
    assert view.blind and view.left_title.text() == "A" and view.right_title.text() == "B"
    seen_orders = set()
    for index in range(8):
        case = f"c{index}"
        assert view.progress_label.text() == f"Case {index + 1} of 8"
        left, right = on_screen(view)
        assert {left, right} == {answer("p1", case), answer("p2", case)}
        swapped = left == answer("p2", case)  # what the person saw, read from the screen
        seen_orders.add(swapped)
        assert "p1" not in view.left_title.text() + view.right_title.text(), "blind mode shows no names"
        with qtbot.waitSignal(document.sig_preferences_changed):
            qtbot.keyClick(view, KEY[pressed])
        stored = document.proto.preferences[-1]
        assert (stored.a, stored.b) == (f"run-p1-{case}", f"run-p2-{case}")
        chosen_text = left if pressed == "a" else right
        winner = "a" if chosen_text == answer("p1", case) else "b"
        assert stored.verdict == winner
        assert stored.blind is True
    assert seen_orders == {True, False}, "seed 1 shuffles some of the 8 cases and not others"
    assert len(document.proto.preferences) == 8
    assert view.progress_label.text() == "Done: 8 of 8 cases"


def test_blind_reveal_names_after_the_vote(make_view, qtbot) -> None:
    document = scoring_document(n_cases=2)
    view = make_view(document)
    view.reveal_ms = 60_000  # keep the reveal on screen
    left, _right = on_screen(view)
    left_label = "Profile p1 × Tiny" if left == answer("p1", "c0") else "Profile p2 × Tiny"
    qtbot.keyClick(view, Qt.Key.Key_3)
    assert document.proto.preferences[-1].verdict == "tie"
    assert view.left_title.text() == f"A · {left_label}"
    assert f"A was: {left_label}" in view.reveal_label.text()
    assert not view.vote_buttons["a"].isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_1)  # ignored while the names are shown
    assert len(document.proto.preferences) == 1


def test_sighted_vote_with_buttons_keeps_columns_in_order(make_view, qtbot) -> None:
    document = scoring_document(n_cases=3)
    view = make_view(document, blind=False)
    for index, verdict in enumerate(["b", "both_bad", "a"]):
        case = f"c{index}"
        assert on_screen(view) == (answer("p1", case), answer("p2", case))
        assert view.left_title.text() == "A · Profile p1 × Tiny"
        assert view.right_title.text() == "B · Profile p2 × Tiny"
        qtbot.mouseClick(view.vote_buttons[verdict], Qt.MouseButton.LeftButton)
    stored = [(p.a, p.b, p.verdict, p.blind) for p in document.proto.preferences]
    assert stored == [
        ("run-p1-c0", "run-p2-c0", "b", False),
        ("run-p1-c1", "run-p2-c1", "both_bad", False),
        ("run-p1-c2", "run-p2-c2", "a", False),
    ]
    assert all(p.id.startswith("pref-") and p.created.endswith("Z") for p in document.proto.preferences)
    assert document.dirty


def test_only_cases_both_variants_answered_and_other_pairs(make_view, qtbot) -> None:
    document = scoring_document(n_cases=4, skip={("p2", "c1"), ("p3", "c0"), ("p3", "c1"), ("p3", "c2")})
    view = make_view(document, blind=False)
    assert [m.case for m in view.matchups()] == ["c0", "c2", "c3"]
    qtbot.keyClick(view, Qt.Key.Key_2)
    assert view.current().case == "c2"
    assert view.progress_label.text() == "Case 2 of 3"
    view.compare(Variant("p3", "m"), FIRST)
    assert [m.case for m in view.matchups()] == ["c3"]
    assert on_screen(view) == (answer("p3", "c3"), answer("p1", "c3"))
    qtbot.keyClick(view, Qt.Key.Key_1)
    stored = document.proto.preferences[-1]
    assert (stored.a, stored.b, stored.verdict) == ("run-p3-c3", "run-p1-c3", "a")


def test_skip_previous_and_resume_at_first_unvoted_case(make_view, qtbot) -> None:
    document = scoring_document(n_cases=3, profiles=("p1", "p2"))
    document.proto.preferences.append(
        Preference(id="old", created="x", a="run-p2-c0", b="run-p1-c0", verdict="a", blind=True)
    )
    view = make_view(document)
    assert view.current().case == "c1", "starts at the first case without a vote"
    qtbot.mouseClick(view.skip_button, Qt.MouseButton.LeftButton)
    assert view.current().case == "c2"
    qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)
    assert view.current().case == "c0"
    assert len(document.proto.preferences) == 1


def test_new_runs_refresh_the_view(make_view, qtbot) -> None:
    document = scoring_document(n_cases=2, profiles=("p1", "p2"), skip={("p2", "c0"), ("p2", "c1")})
    view = make_view(document)
    assert view.stack.currentWidget() is view.empty_label
    assert view.empty_label.text() == EMPTY_NO_VARIANTS
    document.add_runs([Run(id="late", created="x", profile="p2", model="m", case="c1", output="late answer")])
    assert view.stack.currentIndex() == 0
    assert [m.case for m in view.matchups()] == ["c1"]


def test_empty_states(make_view) -> None:
    view = make_view(scoring_document(profiles=("p1",)))
    assert view.empty_label.text().startswith("Run at least two variants first")
    assert not view.vote_buttons["a"].isEnabled()
    disjoint = scoring_document(n_cases=2, profiles=("p1", "p2"), skip={("p1", "c1"), ("p2", "c0")})
    view = make_view(disjoint)
    assert view.empty_label.text() == EMPTY_NO_SHARED_CASES
    view.vote("a")
    assert disjoint.proto.preferences == []


def test_hostile_answer_is_shown_inert(make_view) -> None:
    document = scoring_document(n_cases=1, profiles=("p1", "p2"))
    document.proto.run("run-p1-c0").output = (
        '<img src="http://127.0.0.1:9/x.png"> ![leak](http://127.0.0.1:9/y.png) <b>bold?</b>'
    )
    document.sig_runs_changed.emit()
    view = make_view(document, blind=False)
    text = view.left_view.toPlainText()
    assert "[image: leak]" in text and "<b>bold?</b>" in text
