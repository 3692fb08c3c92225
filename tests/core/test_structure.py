"""Unique ids, the delete cascade and the A/B rules live in core (`structure.py`, `matchups.py`)."""

from __future__ import annotations

from app.core import structure
from app.core.matchups import all_voted, first_unvoted, make_preference, matchups, variants_with_answers
from app.core.messages import build_messages
from app.core.prototype import (
    Assertion,
    Case,
    EvalResult,
    EvalRun,
    ModelTarget,
    Preference,
    Profile,
    Prototype,
    Run,
    Turn,
)
from app.core.scoring import Variant


def _proto() -> Prototype:
    proto = Prototype(
        name="x",
        profiles=[Profile(id="a"), Profile(id="b")],
        models=[ModelTarget(id="m", provider="local", model="t")],
        cases=[Case(id="c1", turns=[Turn(content="one")]), Case(id="c2", turns=[Turn(content="two")])],
    )
    for case in proto.cases:
        for profile in proto.profiles:
            proto.runs.append(Run(
                id=f"{profile.id}-{case.id}", created="t", profile=profile.id, model="m", case=case.id,
                provider="local", model_name="t", messages=build_messages(proto, profile, case), output="x"))
    return proto


def test_new_and_copied_items_get_unused_ids() -> None:
    proto = _proto()
    assert structure.add(proto, "profiles").id == "new-profile"
    assert structure.add(proto, "profiles").id == "new-profile-2"
    copy = structure.duplicate(proto, "profiles", "a")
    assert copy.id == "a-copy" and [p.id for p in proto.profiles][:2] == ["a", "a-copy"]
    assert structure.duplicate(proto, "profiles", "a").id == "a-copy-2"


def test_deleting_a_profile_takes_its_runs_votes_results_and_scopes() -> None:
    proto = _proto()
    proto.preferences.append(Preference(id="v", created="t", a="a-c1", b="b-c1", verdict="a"))
    proto.evals.append(EvalRun(id="e", created="t", pass_rate=1, results=[
        EvalResult(case="c1", profile="a", model="m", run="a-c1", passed=True, score=1)]))
    proto.default_assert = [
        Assertion(type="contains", value="x", profiles=["a"]),
        Assertion(type="contains", value="y", profiles=["a", "b"]),
        Assertion(type="contains", value="z"),
    ]
    assert structure.delete(proto, "profiles", "a") == 2
    assert [r.id for r in proto.runs] == ["b-c1", "b-c2"]
    assert proto.preferences == [] and proto.evals[0].results[0].run is None
    assert [(a.value, a.profiles) for a in proto.default_assert] == [("y", ["b"]), ("z", [])]


def test_reorder_keeps_unlisted_items_at_the_end() -> None:
    proto = _proto()
    structure.add(proto, "cases")
    structure.reorder(proto, "cases", ["c2", "c1"])
    assert [c.id for c in proto.cases] == ["c2", "c1", "case"]


def test_matchups_compare_current_answers_and_track_votes() -> None:
    proto = _proto()
    a, b = Variant("a", "m"), Variant("b", "m")
    assert variants_with_answers(proto) == [a, b]
    found = matchups(proto, a, b)
    pairs = [(m.case, m.first.id, m.second.id) for m in found]
    assert pairs == [("c1", "a-c1", "b-c1"), ("c2", "a-c2", "b-c2")]
    assert matchups(proto, a, a) == []
    vote = make_preference(found[0], "a", swapped=True, blind=True)
    assert (vote.a, vote.b, vote.verdict, vote.blind) == ("a-c1", "b-c1", "b", True)
    proto.preferences.append(vote)
    assert first_unvoted(proto, found) == 1 and not all_voted(proto, found)
    proto.preferences.append(make_preference(found[1], "tie", swapped=False, blind=False))
    assert all_voted(proto, found)


def test_ids_follow_names_until_something_refers_to_them() -> None:
    proto = _proto()
    target = structure.add(proto, "models")
    copy = structure.duplicate(proto, "models", target.id)
    assert (target.id, copy.id) == ("new-model", "new-model-copy")  # derived from "New model (copy)"
    structure.rename(copy, "Fake fast")
    assert structure.follow_name(proto, "models", copy.id) == "fake-fast" == copy.id
    assert structure.follow_name(proto, "models", "fake-fast") == "fake-fast"  # unchanged name: no churn
    structure.rename(target, "Fake fast")
    assert structure.follow_name(proto, "models", target.id) == "fake-fast-2"  # unique among models
    # once a run points at it, the id is fixed and only the display name changes
    proto.runs.append(Run(id="r", created="t", profile="a", model="fake-fast", case="c1", output="x"))
    structure.rename(copy, "Renamed")
    assert structure.follow_name(proto, "models", "fake-fast") == "fake-fast"
    assert copy.name == "Renamed"


def test_a_check_scoped_to_a_profile_pins_its_id() -> None:
    proto = _proto()
    item = structure.add(proto, "profiles")
    proto.default_assert = [Assertion(type="contains", value="x", profiles=[item.id])]
    structure.rename(item, "Shouty")
    assert structure.follow_name(proto, "profiles", item.id) == "new-profile"


def test_slug() -> None:
    assert structure.slug("  Fake fast (copy)! ", "model") == "fake-fast-copy"
    assert structure.slug("Crème brûlée", "x") == "creme-brulee"
    assert structure.slug("🐱", "profile") == "profile"
