"""The one definition of a cell's current answer, its thread, rating and staleness (app/core/threads.py),
and the one policy for storing results (app/core/results.py)."""

from __future__ import annotations

from app.core.messages import build_messages, continue_messages
from app.core.prototype import (
    Case,
    EvalResult,
    EvalRun,
    ModelParams,
    ModelTarget,
    Profile,
    Prototype,
    Run,
    Turn,
)
from app.core.ratings import rating_of, set_rating, set_thumb
from app.core.results import record_eval, record_runs
from app.core.threads import answer_for_continuation, cell_state, cell_states, conversation, reusable_answer

KEY = ("c", "p", "m", 0)
_count = 0


def _proto() -> Prototype:
    return Prototype(
        name="x",
        profiles=[Profile(id="p", system_prompt="Be brief.")],
        models=[ModelTarget(id="m", provider="local", model="tiny")],
        cases=[Case(id="c", turns=[Turn(content="hi")])],
    )


def _answer(proto: Prototype, output: str, *, cached: bool = False, status: str = "ok",
            parent: Run | None = None, follow_up: str = "more?") -> Run:
    global _count
    _count += 1
    target = proto.model("m")
    messages = (continue_messages(parent, follow_up) if parent is not None
                else build_messages(proto, proto.profile("p"), proto.case("c")))
    return Run(id=f"run-{_count}", created="t", profile="p", model="m", case="c",
               parent=parent.id if parent else None, provider=target.provider, model_name=target.model,
               params=target.params.model_copy(), messages=messages, output=output,
               status=status, cached=cached)  # type: ignore[arg-type]


def test_cache_rerun_adds_nothing_and_keeps_the_rating() -> None:
    proto = _proto()
    first = _answer(proto, "hello")
    record_runs(proto, [first])
    set_thumb(first, "ana", "up")
    set_thumb(first, "bo", "up")
    again = _answer(proto, "hello", cached=True)
    recorded = record_runs(proto, [again])
    assert recorded.added == [] and recorded.stored(again) is first
    assert len(proto.runs) == 1
    state = cell_state(proto, KEY)
    assert state.current is first and state.rating_by("ana").thumb == "up"
    assert state.team_thumb == "up" and state.split.raters == 2


def test_a_fresh_answer_becomes_current_and_earlier_ones_stay_reachable() -> None:
    proto = _proto()
    runs = [_answer(proto, text) for text in ("a", "b", "c")]
    record_runs(proto, runs[:1])
    set_thumb(runs[0], "ana", "down")
    record_runs(proto, runs[1:])
    state = cell_state(proto, KEY)
    assert state.current is runs[2]
    assert (state.position, len(state.answers)) == (3, 3)
    picked = cell_states(proto, {KEY: runs[0].id})[KEY]
    assert picked.position == 1 and picked.rating_by("ana").thumb == "down"
    assert picked.rating_by("bo").thumb is None and picked.team_thumb == "down"


def test_a_follow_up_keeps_the_first_replys_rating() -> None:
    proto = _proto()
    first = _answer(proto, "hello")
    record_runs(proto, [first])
    set_rating(first, "ana", thumb="up", note="nice")
    reply = _answer(proto, "sure", parent=first)
    record_runs(proto, [reply])
    state = cell_state(proto, KEY)
    assert [r.id for r in state.thread] == [first.id, reply.id]
    assert rating_of(state.thread[0], "ana").note == "nice"
    assert answer_for_continuation(proto, "c", "p", "m") is reply


def test_editing_a_profile_or_target_makes_its_answers_stale() -> None:
    proto = _proto()
    run = _answer(proto, "hello")
    record_runs(proto, [run])
    assert not cell_state(proto, KEY).stale
    assert reusable_answer(proto, "c", "p", "m") is run
    proto.profile("p").system_prompt = "Be long."
    assert cell_state(proto, KEY).stale
    assert reusable_answer(proto, "c", "p", "m") is None
    proto.profile("p").system_prompt = "Be brief."
    proto.model("m").params = ModelParams(temperature=0.5)
    assert cell_state(proto, KEY).stale
    proto.model("m").params = ModelParams()
    proto.case("c").turns[0].content = "hello?"
    assert cell_state(proto, KEY).stale


def test_the_up_to_date_answer_wins_over_a_newer_stale_one() -> None:
    proto = _proto()
    old = _answer(proto, "brief")
    record_runs(proto, [old])
    proto.profile("p").system_prompt = "Be long."
    new = _answer(proto, "long")
    record_runs(proto, [new])
    assert cell_state(proto, KEY).current is new
    proto.profile("p").system_prompt = "Be brief."  # changed back: the old answer is current again
    state = cell_state(proto, KEY)
    assert state.current is old and not state.stale and new.id in state.stale_ids


def test_a_cell_with_only_a_failure_shows_it_and_a_failure_does_not_replace_an_answer() -> None:
    proto = _proto()
    failed = _answer(proto, "", status="error")
    record_runs(proto, [failed])
    assert cell_state(proto, KEY).current is failed
    good = _answer(proto, "ok")
    record_runs(proto, [good, _answer(proto, "", status="error")])
    assert cell_state(proto, KEY).current is good


def test_empty_cancelled_and_baseline_runs_are_not_stored() -> None:
    proto = _proto()
    record_runs(proto, [_answer(proto, "", status="cancelled")])
    record_runs(proto, [_answer(proto, "x")], baseline=True)
    assert proto.runs == []
    record_runs(proto, [_answer(proto, "partial", status="cancelled")])
    assert len(proto.runs) == 1


def test_an_eval_outcome_points_at_the_stored_run() -> None:
    proto = _proto()
    first = _answer(proto, "hello")
    record_runs(proto, [first])
    repeat = _answer(proto, "hello", cached=True)
    eval_run = EvalRun(id="e", created="t", pass_rate=1.0, results=[
        EvalResult(case="c", profile="p", model="m", run=repeat.id, passed=True, score=1.0)])
    record_eval(proto, [repeat], eval_run)
    assert len(proto.runs) == 1 and proto.evals[0].results[0].run == first.id


def _simulated(proto: Prototype, output: str, parent: Run, *, cached: bool = False) -> Run:
    run = _answer(proto, output, cached=cached, parent=parent, follow_up="and 20%?")
    run.user_turn = "simulated"
    return run


def test_a_repeated_conversation_re_points_at_the_stored_thread() -> None:
    """A simulated conversation answered from the cache again: its first reply is a repeat (not
    stored), so its continuation must continue the stored first reply, across calls too."""
    proto = _proto()
    first = _answer(proto, "hello")
    second = _simulated(proto, "sure", first)
    aliases: dict[str, Run] = {}
    record_runs(proto, [first], aliases=aliases)
    record_runs(proto, [second], aliases=aliases)
    again = _answer(proto, "hello", cached=True)
    again_second = _simulated(proto, "sure", again, cached=True)
    assert record_runs(proto, [again], aliases=aliases).added == []
    recorded = record_runs(proto, [again_second], aliases=aliases)  # a later call: the alias carries
    assert recorded.added == [] and recorded.stored(again_second) is second
    assert len(proto.runs) == 2
    fresh = _simulated(proto, "a new reply", again)  # a new answer: stored, on the stored root
    assert record_runs(proto, [fresh], aliases=aliases).added == [fresh]
    assert fresh.parent == first.id
    assert conversation(first, proto.runs) == (first, fresh)


def test_within_one_call_a_repeats_continuations_re_point_too() -> None:
    proto = _proto()
    first = _answer(proto, "hello")
    record_runs(proto, [first])
    again = _answer(proto, "hello", cached=True)
    reply = _simulated(proto, "fresh", again)
    record_runs(proto, [again, reply])
    assert reply.parent == first.id and proto.runs == [first, reply]


def test_a_typed_follow_up_ends_the_simulated_conversation() -> None:
    proto = _proto()
    first = _answer(proto, "hello")
    sim = _simulated(proto, "sure", first)
    typed = _answer(proto, "typed", parent=sim, follow_up="typed by a person")
    record_runs(proto, [first, sim, typed])
    assert conversation(first, proto.runs) == (first, sim)
    assert cell_state(proto, KEY).thread == (first, sim, typed)
