"""Structural edits undo exactly (`app/core/history.py`, `structure.remove`/`restore`).

The property test runs random sequences of add, duplicate, delete, rename and reorder on a realistic
prototype (runs with threads, ratings, votes, an eval run, scoped assertions): undoing all of them
gives back the original file data exactly, and redoing all gives the edited data exactly.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import history, structure
from app.core.document import parse_prototype, to_data
from app.core.history import Add, Delete, Duplicate, History, Rename, Reorder
from app.core.messages import build_messages
from app.core.prototype import (
    Assertion,
    EvalResult,
    EvalRun,
    Preference,
    Prototype,
    Rating,
    Run,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "prototypes" / "cat-persona.yaml"
_TEXT = EXAMPLE.read_text(encoding="utf-8")


def realistic() -> Prototype:
    """The cat example with answers in every cell, follow-ups, ratings, votes, an eval run and scopes."""
    proto = parse_prototype(_TEXT)
    n = 0
    for case in proto.cases:
        for profile in proto.profiles:
            for model in proto.models:
                n += 1
                first = Run(id=f"r{n}", created="t", profile=profile.id, model=model.id, case=case.id,
                            provider=model.provider, model_name=model.model,
                            messages=build_messages(proto, profile, case), output=f"answer {n}",
                            ratings=[Rating(rater="ana", thumb="up" if n % 2 else "down")])
                proto.runs.append(first)
                if n % 3 == 0:  # a follow-up continuing it
                    proto.runs.append(Run(id=f"r{n}-2", created="t", profile=profile.id, model=model.id,
                                          case=case.id, parent=first.id, output="more"))
    first_case, (p0, p1) = proto.cases[0].id, proto.profiles[:2]  # a thread across profiles (a merge can)
    proto.runs.append(Run(id="cross", created="t", profile=p1.id, model=proto.models[0].id, case=first_case,
                          parent=next(r.id for r in proto.runs if r.profile == p0.id), output="cross"))
    ids = [r.id for r in proto.runs if r.parent is None]
    for k in range(0, len(ids) - 1, 2):
        proto.preferences.append(Preference(id=f"v{k}", created="t", a=ids[k], b=ids[k + 1], verdict="a"))
    proto.evals.append(EvalRun(id="e1", created="t", pass_rate=0.5, results=[
        EvalResult(case=r.case, profile=r.profile, model=r.model, run=r.id, passed=True, score=1)
        for r in proto.runs[:12]]))
    p = [x.id for x in proto.profiles]
    proto.default_assert.append(Assertion(type="contains", value="meow", profiles=[p[0]]))
    proto.default_assert.append(Assertion(type="contains", value="purr", profiles=[p[0], p[1]]))
    proto.cases[0].assert_.append(Assertion(type="icontains", value="cat", profiles=[p[1]]))
    return proto


def _random_edit(data: st.DataObject, proto: Prototype) -> history.Edit:
    kind = data.draw(st.sampled_from(structure.KINDS))
    ids = [i.id for i in structure.items(proto, kind)]
    op = data.draw(st.sampled_from(["add", "duplicate", "delete", "rename", "reorder"] if ids else ["add"]))
    if op == "add":
        return Add(kind)
    item_id = data.draw(st.sampled_from(ids))
    if op == "duplicate":
        return Duplicate(kind, item_id)
    if op == "delete":
        return Delete(kind, item_id)
    if op == "rename":
        name = data.draw(st.sampled_from(["Shouty", "New profile", "", "Case", "猫 cat"]))
        return Rename(kind, item_id, name)
    return Reorder(kind, tuple(data.draw(st.permutations(ids))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_undo_all_gives_the_original_and_redo_all_the_edited(data: st.DataObject) -> None:
    proto = realistic()
    original: dict[str, Any] = copy.deepcopy(to_data(proto))
    log = History()
    count = data.draw(st.integers(1, 12))
    for _ in range(count):
        log.do(proto, _random_edit(data, proto))
    edited = copy.deepcopy(to_data(proto))
    while log.undo(proto) is not None:
        pass
    assert to_data(proto) == original
    while log.redo(proto) is not None:
        pass
    assert to_data(proto) == edited
    for _ in range(count):  # and back again: records made by redo undo as exactly
        log.undo(proto)
    assert to_data(proto) == original


def test_delete_then_undo_brings_back_runs_votes_links_and_scopes() -> None:
    proto = realistic()
    before = copy.deepcopy(to_data(proto))
    profile = proto.profiles[0].id
    log = History()
    done = log.do(proto, Delete("profiles", profile))
    assert done.runs == len([r for r in realistic().runs if r.profile == profile]) > 0
    assert log.undo_words() == f"delete profile {profile!r}"
    assert all(r.profile != profile for r in proto.runs)
    assert all(profile not in a.profiles for a in proto.default_assert)
    undone = log.undo(proto)
    assert undone is not None
    assert (undone.kind, undone.item_id, undone.runs) == ("profiles", profile, done.runs)
    assert to_data(proto) == before
    assert log.redo_words() == f"delete profile {profile!r}" and log.undo_words() is None


def test_a_new_edit_drops_the_redo_stack_and_the_stack_is_bounded() -> None:
    proto = realistic()
    log = History(limit=3)
    for _ in range(5):
        log.do(proto, Add("cases"))
    assert len(log.undo_steps) == 3
    log.undo(proto)
    assert log.redo_words() == "add case"
    log.do(proto, Add("models"))
    assert log.redo_words() is None


def test_undoing_a_rename_puts_the_old_id_back() -> None:
    proto = realistic()
    log = History()
    added = log.do(proto, Add("profiles"))
    renamed = log.do(proto, Rename("profiles", added.item_id, "Shouty"))
    assert renamed.item_id == "shouty" and proto.profiles[-1].id == "shouty"
    back = log.undo(proto)
    assert back is not None and back.item_id == "new-profile"
    assert (proto.profiles[-1].id, proto.profiles[-1].name) == ("new-profile", "New profile")


def test_runs_ending_for_a_deleted_case_come_back_with_its_undo() -> None:
    """A run in flight for a deleted case is kept aside, not stored as an orphan; undo brings it back."""
    proto = realistic()
    case = proto.cases[1].id
    log = History()
    log.do(proto, Delete("cases", case))
    late = Run(id="late", created="t", profile=proto.profiles[0].id, model=proto.models[0].id, case=case,
               output="late answer")
    other = Run(id="other", created="t", profile=proto.profiles[0].id, model=proto.models[0].id,
                case=proto.cases[0].id, output="kept")
    assert log.keep_late_runs(proto, [late, other]) == [other]
    assert all(r.case != case for r in proto.runs)
    undone = log.undo(proto)
    assert undone is not None and undone.runs > 1
    assert proto.runs[-1] is late
    log.redo(proto)
    assert all(r.case != case for r in proto.runs)  # redo deletes it again, the late run too
    assert log.keep_late_runs(proto, [other]) == [other]  # nothing pending for that case: stored


def test_structure_delete_still_counts_runs() -> None:
    proto = realistic()
    case = proto.cases[0].id
    expected = len(structure.runs_of(proto, "cases", case))
    assert structure.delete(proto, "cases", case) == expected > 0


def test_undo_and_redo_back_to_the_saved_state_say_so() -> None:
    proto = realistic()
    log = History(limit=3)
    assert log.at_saved()
    log.do(proto, Add("cases"))
    log.mark_saved()
    log.do(proto, Delete("cases", proto.cases[0].id))
    assert not log.at_saved()
    log.undo(proto)
    assert log.at_saved()
    log.undo(proto)
    assert not log.at_saved()
    log.redo(proto)
    assert log.at_saved()
    log.undo(proto)
    log.do(proto, Add("models"))  # the saved state was on the redo stack: out of reach now
    assert not log.at_saved()
    assert not any(log.at_saved() for _ in iter(lambda: log.undo(proto), None))


def test_words_after_a_delete() -> None:
    proto = realistic()
    log = History()
    case = proto.cases[0].id
    count = len(structure.runs_of(proto, "cases", case))
    assert history.deleted_words(log.do(proto, Delete("cases", case))) == (
        f"Deleted case {case!r} with {count} results.")
    added = log.do(proto, Add("models"))
    gone = log.do(proto, Delete("models", added.item_id))
    assert history.deleted_words(gone) == "Deleted model 'new-model'."


def test_undo_finds_an_item_whose_id_followed_a_name_typed_since() -> None:
    """The editor re-derives an id from a typed name outside the history; undo still finds the item."""
    proto = realistic()
    log = History()
    added = log.do(proto, Add("profiles"))
    log.do(proto, Reorder("profiles", tuple(reversed([p.id for p in proto.profiles]))))
    item = proto.profiles[0]
    structure.rename(item, "Typed in the editor")
    assert structure.follow_name(proto, "profiles", added.item_id) == "typed-in-the-editor"
    log.undo(proto)
    assert proto.profiles[-1] is item
    undone = log.undo(proto)
    assert undone is not None and undone.item_id == "typed-in-the-editor"
    assert item not in proto.profiles


def test_an_undo_that_no_longer_fits_is_refused_and_kept() -> None:
    proto = realistic()
    log = History()
    log.do(proto, Delete("cases", proto.cases[0].id))
    gone = log.undo_steps[-1].item_id
    taken = structure.add(proto, "cases")  # outside the history, say Generate cases
    taken.id = gone
    before = copy.deepcopy(to_data(proto))
    with pytest.raises(history.Blocked, match="now has the id"):
        log.undo(proto)
    assert to_data(proto) == before and log.undo_words() == f"delete case {gone!r}"
