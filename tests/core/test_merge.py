"""Merging copies of a prototype: records are unioned and never lost, definitions merge field by field."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.document import dumps_prototype, parse_prototype
from app.core.errors import PrototypeError
from app.core.merge import MISSING, Side, conflict_text, describe, merge
from app.core.prototype import Preference, Prototype, Rating, Run
from app.core.ratings import rater_label

from .strategies import prototypes, runs

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASE = """\
protostudio: 3
name: Demo
profiles:
  - id: playful
    system_prompt: Be playful.
  - id: plain
    system_prompt: Be plain.
models:
  - {id: m, provider: openai, model: gpt-4o-mini}
cases:
  - id: c1
    turns: [{content: hi}]
runs:
  - {id: r1, created: "2026-01-01T00:00:00Z", profile: playful, model: m, case: c1, output: hello}
"""


def side(proto: Prototype | str, name: str) -> Side:
    text = proto if isinstance(proto, str) else dumps_prototype(proto)
    return Side.parse(text, name)


def canonical(proto: Prototype) -> str:
    return dumps_prototype(parse_prototype(dumps_prototype(proto)))


def ratings_by_key(proto: Prototype) -> dict[tuple[str, str], Rating]:
    return {(run.id, rater_label(r.rater)): r for run in proto.runs for r in run.ratings}


# -- properties --------------------------------------------------------------------------------------


@SETTINGS
@given(prototypes(), prototypes())
def test_merging_a_copy_with_itself_gives_that_copy(base: Prototype, x: Prototype) -> None:
    result = merge(side(base, "base.yaml"), side(x, "ours.yaml"), side(x, "theirs.yaml"))
    assert result.clean
    assert result.text == canonical(x)


@SETTINGS
@given(prototypes(), prototypes())
def test_only_one_side_changed_gives_that_side(base: Prototype, x: Prototype) -> None:
    assert merge(side(base, "b"), side(base, "o"), side(x, "t")).text == canonical(x)
    assert merge(side(base, "b"), side(x, "o"), side(base, "t")).text == canonical(x)


@st.composite
def diverged(draw: st.DrawFn) -> tuple[Prototype, Prototype, Prototype]:
    """A base and two copies that each added runs, ratings and votes (different raters)."""
    base = draw(prototypes())
    copies = []
    for prefix, rater in (("o", "ana"), ("t", "bo")):
        copy = base.model_copy(deep=True)
        added = draw(st.lists(runs, max_size=2))
        for index, run in enumerate(added):
            run.id = f"{prefix}{index}-{run.id}"[:200]
            copy.runs.append(run)
        for run in copy.runs:
            if draw(st.booleans()):
                thumb = draw(st.sampled_from(["up", "down"]))
                run.ratings = [r for r in run.ratings if r.rater != rater]
                stamp = f"2026-02-0{len(prefix)}T00:00:00Z"
                run.ratings.append(Rating(rater=rater, thumb=thumb, updated=stamp))
        if copy.runs:
            copy.preferences.append(Preference(
                id=f"{prefix}-vote", created="2026-02-01T00:00:00Z", rater=rater,
                a=copy.runs[0].id, b=copy.runs[-1].id, verdict=draw(st.sampled_from(["a", "b", "tie"])),
            ))
        copies.append(copy)
    return base, copies[0], copies[1]


@SETTINGS
@given(diverged())
def test_unions_are_symmetric_and_no_rating_is_lost(trio: tuple[Prototype, Prototype, Prototype]) -> None:
    base, ours, theirs = trio
    one = merge(side(base, "b"), side(ours, "o"), side(theirs, "t"))
    two = merge(side(base, "b"), side(theirs, "o"), side(ours, "t"))
    assert one.clean and two.clean and one.proto is not None and two.proto is not None
    for field in ("runs", "preferences"):
        first = {item.id: item for item in getattr(one.proto, field)}
        second = {item.id: item for item in getattr(two.proto, field)}
        assert first.keys() == second.keys()
        for key, item in first.items():
            other = second[key]
            if isinstance(item, Run):
                assert sorted(map(repr, item.ratings)) == sorted(map(repr, other.ratings))
            else:
                assert item == other
    merged = ratings_by_key(one.proto)
    for copy in (ours, theirs):
        for key in ratings_by_key(copy):
            assert key in merged  # never lost; the copy that rated later wins the content
        assert {r.id for r in copy.runs} <= {r.id for r in one.proto.runs}
        assert {p.id for p in copy.preferences} <= {p.id for p in one.proto.preferences}


@SETTINGS
@given(prototypes(), prototypes())
def test_two_way_merge_keeps_everything_from_both(a: Prototype, b: Prototype) -> None:
    b = b.model_copy(update={"runs": [r.model_copy(update={"id": f"b-{r.id}"[:200]}) for r in b.runs],
                             "preferences": []})
    result = merge(None, side(a, "a.yaml"), side(b, "b.yaml"))
    if result.clean:
        assert result.proto is not None
        assert {r.id for r in a.runs} | {r.id for r in b.runs} == {r.id for r in result.proto.runs}
        assert merge(None, side(result.text, "m"), side(result.text, "m")).text == result.text


# -- examples ----------------------------------------------------------------------------------------


def edited(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text
        text = text.replace(old, new)
    return text


def test_different_fields_merge_and_the_same_field_conflicts_with_both_positions() -> None:
    ours = edited(BASE, ("Be playful.", "Be very playful."))
    theirs = edited(BASE, ("Be plain.", "Be terse."))
    result = merge(side(BASE, "base"), side(ours, "ours.yaml"), side(theirs, "theirs.yaml"))
    assert result.clean and result.proto is not None
    assert [p.system_prompt for p in result.proto.profiles] == ["Be very playful.", "Be terse."]

    theirs = edited(BASE, ("Be playful.", "Be a bit playful."), ("\n  - id: plain", "\n\n  - id: plain"))
    result = merge(side(BASE, "base"), side(ours, "ours.yaml"), side(theirs, "theirs.yaml"))
    assert [c.path for c in result.conflicts] == ["profiles[playful].system_prompt"]
    message = describe(result.conflicts[0], side(ours, "ours.yaml"), side(theirs, "theirs.yaml"))
    assert message.splitlines() == [
        "ours.yaml:5:20: conflict at profiles[playful].system_prompt: changed differently on both sides",
        '    ours   (ours.yaml:5:20): "Be very playful."',
        '    theirs (theirs.yaml:5:20): "Be a bit playful."',
    ]


def test_conflict_output_holds_both_versions_and_does_not_load_until_resolved() -> None:
    ours = edited(BASE, ("Be playful.", "Be very playful."))
    theirs = edited(BASE, ("Be playful.", "Be a bit playful."))
    result = merge(side(BASE, "base"), side(ours, "o"), side(theirs, "t"))
    text = conflict_text(result, "ours", "theirs")
    assert "Be very playful." in text and "Be a bit playful." in text
    try:
        parse_prototype(text, "out.yaml")
    except PrototypeError as exc:
        assert "out.yaml:6:1: unresolved merge conflict" in str(exc)
    else:
        raise AssertionError("a file with conflict markers loaded")
    lines = text.splitlines()
    start, split, end = (next(i for i, line in enumerate(lines) if line.startswith(m))
                         for m in ("<<<<<<<", "=======", ">>>>>>>"))
    resolved = "\n".join(lines[:start] + lines[split + 1 : end] + lines[end + 1 :]) + "\n"
    assert parse_prototype(resolved).profile("playful").system_prompt == "Be a bit playful."


def test_deleted_on_one_side_and_changed_on_the_other_is_a_conflict() -> None:
    ours = edited(BASE, ("  - id: plain\n    system_prompt: Be plain.\n", ""))
    theirs = edited(BASE, ("Be plain.", "Be terse."))
    result = merge(side(BASE, "b"), side(ours, "o"), side(theirs, "t"))
    assert [(c.path, c.ours) for c in result.conflicts] == [("profiles[plain]", MISSING)]
    unchanged = merge(side(BASE, "b"), side(ours, "o"), side(BASE, "t"))
    assert unchanged.proto is not None and [p.id for p in unchanged.proto.profiles] == ["playful"]


def test_the_same_rating_edited_on_both_sides_keeps_the_later_one() -> None:
    def rated(thumb: str, note: str, when: str) -> str:
        return BASE.replace(
            "output: hello}", f"output: hello, ratings: [{{rater: ana, thumb: {thumb}, note: {note}, "
            f'updated: "{when}"}}]}}'
        )

    early, late = rated("up", "fine", "2026-03-01T10:00:00Z"), rated("down", "rude", "2026-03-02T09:00:00Z")
    for ours, theirs in ((early, late), (late, early)):
        result = merge(side(BASE, "b"), side(ours, "o"), side(theirs, "t"))
        assert result.proto is not None
        [rating] = result.proto.run("r1").ratings
        assert (rating.thumb, rating.note) == ("down", "rude")


def test_a_vote_on_a_run_the_other_side_deleted_brings_the_run_back() -> None:
    ours = edited(BASE, ("runs:\n  - {id: r1, created: \"2026-01-01T00:00:00Z\", profile: playful, model: m, "
                         "case: c1, output: hello}\n", ""))
    theirs = BASE + (
        '  - {id: r2, created: "2026-01-02T00:00:00Z", profile: plain, model: m, case: c1, output: yo}\n'
        "preferences:\n"
        '  - {id: v1, created: "2026-01-02T00:00:00Z", rater: bo, a: r1, b: r2, verdict: a}\n'
    )
    result = merge(side(BASE, "b"), side(ours, "o"), side(theirs, "t"))
    assert result.proto is not None
    assert sorted(r.id for r in result.proto.runs) == ["r1", "r2"]
    assert [p.id for p in result.proto.preferences] == ["v1"]


def test_unknown_rater_and_empty_rater_are_the_same_person() -> None:
    ours = BASE.replace("output: hello}", "output: hello, ratings: [{thumb: up}]}")
    theirs = BASE.replace("output: hello}", "output: hello, ratings: [{rater: unknown, thumb: up}]}")
    result = merge(None, side(ours, "a"), side(theirs, "b"))
    assert result.proto is not None and len(result.proto.run("r1").ratings) == 1


RUN_WITH_PROMPT = (
    '  - {id: r2, created: "2026-01-02T00:00:00Z", profile: plain, model: m, case: c1, output: yo,\n'
    "     prompt: p-0000000001}\n"
    "prompts:\n"
    "  p-0000000001: [{role: system, content: Be plain.}, {role: user, content: hi}]\n"
)


def test_a_run_kept_from_one_side_keeps_its_prompt_entry() -> None:
    """Ours deleted r2 (and so its `prompts:` entry); theirs rated it: r2 comes back with its messages."""
    base = BASE + RUN_WITH_PROMPT
    ours = BASE
    rated = 'output: yo, ratings: [{rater: bo, thumb: up, updated: "2026-02-01"}],'
    theirs = base.replace("output: yo,", rated)
    result = merge(side(base, "b"), side(ours, "o"), side(theirs, "t"))
    assert result.clean and result.proto is not None
    assert [m.content for m in result.proto.run("r2").messages] == ["Be plain.", "hi"]
    assert "prompts:" in result.text and "prompt: p-" in result.text


def test_prompt_tables_union_and_unused_entries_are_dropped() -> None:
    ours = BASE + RUN_WITH_PROMPT
    theirs = BASE.replace("output: hello}", "output: hello, messages: [{role: user, content: hey}]}")
    result = merge(side(BASE, "b"), side(ours, "o"), side(theirs, "t"))
    assert result.clean and result.proto is not None
    assert [m.content for m in result.proto.run("r1").messages] == ["hey"]
    assert [m.content for m in result.proto.run("r2").messages] == ["Be plain.", "hi"]
    assert result.text.count("\n  p-") == 2  # the two lists in use, each once


BATCH = (
    "batches:\n"
    '  - {{id: b1, created: "2026-01-03T00:00:00Z", model: m, batch_id: batch_x, status: {status}}}\n'
)


def test_batches_union_by_id_and_a_collected_one_stays_collected() -> None:
    base = BASE + BATCH.format(status="in_progress")
    ours = BASE + BATCH.format(status="collected")
    theirs = BASE + BATCH.format(status="completed") + (
        '  - {id: b2, created: "2026-01-04T00:00:00Z", model: m, status: submitting}\n'
    )
    for a, b in ((ours, theirs), (theirs, ours)):
        result = merge(side(base, "b"), side(a, "o"), side(b, "t"))
        assert result.clean and result.proto is not None
        assert {(j.id, j.status) for j in result.proto.batches} == {("b1", "collected"), ("b2", "submitting")}
