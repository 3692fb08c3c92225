"""`turn: last | any | all` over a simulated conversation's replies, pure and through the runner."""

from __future__ import annotations

import asyncio

from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.evals.assertions import Reply as Earlier
from app.core.evals.assertions import grade_case
from app.core.prototype import Assertion, ModelTarget, Profile, Prototype, SimulatedUser, Turn
from app.core.prototype import Case as CaseModel
from app.engine.evals import EvalOptions, EvalOutcome, EvalRunner
from app.providers.hub import ProviderHub
from app.providers.registry import Registry

EARLIER = [Earlier("the tip is 11.52", "18% of 64?"), Earlier("no idea", "and 20%?")]


def grade(turn: str, value: str, *, earlier: list[Earlier] = EARLIER) -> tuple[bool, str]:
    a = Assertion(type="icontains", value=value, turn=turn)  # type: ignore[arg-type]
    graded = asyncio.run(grade_case([("assert[0]", a)], "thanks, bye", earlier=earlier))
    return graded.passed, graded.results[0].reason


def test_last_checks_only_the_last_reply() -> None:
    assert grade("last", "bye")[0]
    assert not grade("last", "tip")[0]


def test_any_passes_when_one_reply_passes() -> None:
    passed, reason = grade("any", "tip")
    assert passed and reason.startswith("reply 1 of 3")
    passed, reason = grade("any", "sorry")
    assert not passed and reason.startswith("none of 3 replies")


def test_all_needs_every_reply() -> None:
    passed, reason = grade("all", "no idea")
    assert not passed and reason.startswith("reply 1 of 3")
    passed, reason = grade("all", "e")
    assert passed and reason.startswith("all 3 replies")


def test_a_plain_case_has_one_reply_whatever_the_turn() -> None:
    for turn in ("last", "any", "all"):
        assert grade(turn, "bye", earlier=[])[0]
        assert not grade(turn, "tip", earlier=[])[0]


def respond(rec: Recorded) -> Reply:
    turn = sum(m["role"] == "user" for m in rec.messages)
    return Reply(text=["The tip is $11.52.", "Sure, 20% is $12.80.", "You're welcome!"][turn - 1])


def test_the_runner_grades_the_scripted_conversation(fake_server: FakeOpenAI) -> None:
    Registry().add("fake", fake_server.base_url, needs_key=False)
    fake_server.responder = respond
    proto = Prototype(
        name="sim evals",
        profiles=[Profile(id="p")],
        models=[ModelTarget(id="m", provider="fake", model="fm")],
        cases=[CaseModel(
            id="tip", turns=[Turn(content="18% of $64?")],
            simulated_user=SimulatedUser(script=["and 20%?", "thanks"], max_turns=2),
            assert_=[
                Assertion(type="icontains", value="welcome"),
                Assertion(type="icontains", value="12.80", turn="any"),
                Assertion(type="icontains", value="$", turn="all"),
            ],
        )],
    )

    async def go() -> EvalOutcome:
        hub = ProviderHub()
        try:
            return await EvalRunner(hub).run(proto, EvalOptions(use_cache=False))
        finally:
            await hub.aclose()

    outcome = asyncio.run(go())
    assert len(outcome.new_runs) == 3
    (result,) = outcome.eval_run.results
    assert result.run == outcome.new_runs[0].id  # the conversation's first reply names it
    assert [a.passed for a in result.assertions] == [True, True, False]
    assert result.assertions[2].reason.startswith("reply 3 of 3")
    assert len(fake_server.chat_requests()) == 3
