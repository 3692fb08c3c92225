"""Multi-turn: each column continues its own thread, proven by what the server was sent."""

from __future__ import annotations

from engine_kit import make_proto, run_async
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.prototype import Message, Run
from app.engine.engine import Engine
from app.engine.events import CellFailed, EngineEvent
from app.engine.plan import RunPlan


def answer_by_column(rec: Recorded) -> Reply:
    """Answers that differ per model and per turn, so a mixed-up history would show."""
    model = (rec.body or {}).get("model")
    turn = sum(m["role"] == "user" for m in rec.messages)
    return Reply(text=f"{model} answer {turn}")


def test_each_column_continues_its_own_history(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma"), ("b", "fake", "mb")], cases=2)
    fake_server.responder = answer_by_column
    columns = [("p0", "a"), ("p0", "b")]

    async def body(engine: Engine, events: list[EngineEvent]) -> list[list[Run]]:
        first = await engine.run(proto, RunPlan(use_cache=False), events.append)
        proto.runs.extend(first)
        second = await engine.continue_case(proto, "c1", "and then?", columns, events.append)
        proto.runs.extend(second)
        third = await engine.continue_case(proto, "c1", "why?", columns, events.append)
        return [first, second, third]

    (first, second, third), _ = run_async(body)
    system = {"role": "system", "content": "You are profile p0."}
    case_turn = {"role": "user", "content": "case c1"}
    for model in ("ma", "mb"):
        # columns of one turn start together, so only the order within a column is fixed
        sent = [r.messages for r in fake_server.chat_requests() if (r.body or {}).get("model") == model]
        assert len(sent) == 4
        assert sent[2] == [system, case_turn, {"role": "assistant", "content": f"{model} answer 1"},
                           {"role": "user", "content": "and then?"}]
        assert sent[3] == [*sent[2], {"role": "assistant", "content": f"{model} answer 2"},
                           {"role": "user", "content": "why?"}]
    by_model = {r.model: r for r in first if r.case == "c1"}
    assert [r.parent for r in second] == [by_model["a"].id, by_model["b"].id]
    assert [r.parent for r in third] == [second[0].id, second[1].id]
    assert [r.output for r in third] == ["ma answer 3", "mb answer 3"]
    assert third[0].messages[-1] == Message(role="user", content="why?")
    assert all(r.case == "c1" for r in second + third)


def test_a_column_with_nothing_to_continue_fails_alone(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma"), ("b", "fake", "mb")], cases=1)
    fake_server.responder = answer_by_column

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        proto.runs.extend(await engine.run(proto, RunPlan(models=["a"], use_cache=False), events.append))
        return await engine.continue_case(proto, "c0", "more", [("p0", "a"), ("p0", "b")], events.append)

    (continued, orphan), events = run_async(body)
    assert continued.status == "ok" and continued.output == "ma answer 2"
    assert orphan.status == "error" and orphan.error and "run this cell first" in orphan.error
    assert any(isinstance(e, CellFailed) and e.cell.model == "b" for e in events)
    assert len(fake_server.chat_requests()) == 2
