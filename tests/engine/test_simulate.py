"""Simulated users: conversations stop on done and on max_turns, repeat exactly with a seed, run a
script with no simulator call, keep their turns through faults and cancels. Proven by what the
fake server was sent and by the runs' parent links."""

from __future__ import annotations

import asyncio
import json

from engine_kit import make_proto, run_async
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.prototype import ModelTarget, Prototype, Run, SimulatedUser
from app.core.threads import conversation
from app.engine.engine import Engine
from app.engine.events import (
    CellFinished,
    ConversationEnded,
    EngineEvent,
    Progress,
    UserTurnWritten,
)
from app.engine.plan import RunPlan

SIM_MODEL = "simulator"


def sim_proto(*, columns: int = 1, **sim: object) -> Prototype:
    models = [(f"m{i}", "fake", f"model{i}") for i in range(columns)]
    proto = make_proto(profiles=1, models=models, cases=1)
    proto.models.append(ModelTarget(id="sim", provider="fake", model=SIM_MODEL))
    settings = {"persona": "a busy PM", "goal": "get 18% of $64", "model": "sim", **sim}
    proto.cases[0].simulated_user = SimulatedUser.model_validate(settings)
    return proto


def assistant_turn(rec: Recorded) -> int:
    return sum(m["role"] == "user" for m in rec.messages)


def sim_turn(rec: Recorded) -> int:
    """Which user message the simulator is asked for (the prompt says "user message N of")."""
    text = rec.messages[-1]["content"]
    return int(text.split("Write user message ", 1)[1].split(" ", 1)[0])


def scripted(done_at: int | None = None, *, bad_at: int | None = None):
    """A responder: the columns answer `<model> answer <turn>`; the simulator writes `question N`,
    says done at `done_at`, and answers garbage at `bad_at`."""

    def respond(rec: Recorded) -> Reply:
        model = (rec.body or {}).get("model")
        if model != SIM_MODEL:
            return Reply(text=f"{model} answer {assistant_turn(rec)}")
        turn = sim_turn(rec)
        if bad_at == turn:
            return Reply(text="I am not JSON at all")
        done = done_at == turn
        body = {"message": "" if done else f"question {turn}", "done": done, "reason": f"turn {turn}"}
        return Reply(text=json.dumps(body))

    return respond


def run_plan(proto: Prototype, **kwargs: object) -> tuple[list[Run], list[EngineEvent]]:
    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, columns_only(proto), events.append)

    return run_async(body, **kwargs)  # type: ignore[arg-type]


def columns_only(proto: Prototype) -> RunPlan:
    """Every model but the simulator's target as a column."""
    return RunPlan(models=[m.id for m in proto.models if m.id != "sim"], use_cache=False)


def column_requests(server: FakeOpenAI) -> list[Recorded]:
    return [r for r in server.chat_requests() if (r.body or {}).get("model") != SIM_MODEL]


def sim_requests(server: FakeOpenAI) -> list[Recorded]:
    return [r for r in server.chat_requests() if (r.body or {}).get("model") == SIM_MODEL]


def test_stops_when_the_simulated_user_is_done(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = sim_proto(max_turns=5)
    fake_server.responder = scripted(done_at=3)
    runs, events = run_plan(proto)
    assert [r.output for r in runs] == ["model0 answer 1", "model0 answer 2", "model0 answer 3"]
    assert [r.user_turn for r in runs] == [None, "simulated", "simulated"]
    assert [r.parent for r in runs] == [None, runs[0].id, runs[1].id]
    assert runs[2].messages[-1].content == "question 2"
    assert len(sim_requests(fake_server)) == 3
    ended = [e for e in events if isinstance(e, ConversationEnded)]
    assert len(ended) == 1 and ended[0].reason == "done: turn 3" and ended[0].turns == 2
    assert not ended[0].failed
    assert conversation(runs[0], runs) == tuple(runs)
    last = [e for e in events if isinstance(e, Progress)][-1]
    assert (last.done, last.total) == (3, 3)


def test_stops_at_max_turns(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = sim_proto(max_turns=2)
    fake_server.responder = scripted()
    runs, events = run_plan(proto)
    assert [r.output for r in runs] == ["model0 answer 1", "model0 answer 2", "model0 answer 3"]
    assert len(sim_requests(fake_server)) == 2  # no simulator call after the last allowed turn
    ended = [e for e in events if isinstance(e, ConversationEnded)]
    assert ended[0].reason == "max_turns (2) reached"
    written = [e.text for e in events if isinstance(e, UserTurnWritten)]
    assert written == ["question 1", "question 2"]


def test_every_column_gets_its_own_conversation_with_the_same_seed(
    fake_server: FakeOpenAI, fake_provider: str
) -> None:
    proto = sim_proto(columns=4, max_turns=2, seed=7)
    fake_server.responder = scripted()
    runs, _ = run_plan(proto)
    assert len(runs) == 12
    for i in range(4):
        mine = [r for r in runs if r.model == f"m{i}"]
        assert [r.output for r in mine] == [f"model{i} answer {n}" for n in (1, 2, 3)]
        assert conversation(mine[0], runs) == tuple(mine)
    asked = sim_requests(fake_server)
    assert len(asked) == 8
    assert {r.body["seed"] for r in asked if r.body} == {7}
    assert all((r.body or {})["response_format"]["type"] == "json_schema" for r in asked)
    transcripts = {r.messages[-1]["content"] for r in asked}
    assert len(transcripts) == 8  # each column's simulator saw its own column's answers


def test_seeded_runs_repeat_exactly(fake_server: FakeOpenAI, fake_provider: str) -> None:
    def seeded(rec: Recorded) -> Reply:
        """A simulator whose message depends only on its seed and what it was sent."""
        model = (rec.body or {}).get("model")
        if model != SIM_MODEL:
            return Reply(text=f"answer {assistant_turn(rec)}")
        digest = hash((rec.body or {}).get("seed")) ^ hash(rec.messages[-1]["content"])
        return Reply(text=json.dumps({"message": f"q{digest % 1000}", "done": False, "reason": ""}))

    fake_server.responder = seeded
    first, _ = run_plan(sim_proto(max_turns=3, seed=11))
    sent_first = [r.messages for r in column_requests(fake_server)]
    fake_server.reset()
    fake_server.responder = seeded
    second, _ = run_plan(sim_proto(max_turns=3, seed=11))
    sent_second = [r.messages for r in column_requests(fake_server)]
    assert [r.messages for r in first] == [r.messages for r in second]
    assert sent_first == sent_second and len(sent_first) == 4
    fake_server.reset()
    fake_server.responder = seeded
    other, _ = run_plan(sim_proto(max_turns=3, seed=12))
    assert [r.messages for r in other] != [r.messages for r in first]


def test_a_script_runs_with_no_simulator_call(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = sim_proto(max_turns=4, script=["and for 20%?", "thanks, {{who}}"])
    proto.cases[0].vars = {"who": "bot"}
    fake_server.responder = scripted()
    runs, events = run_plan(proto)
    assert sim_requests(fake_server) == []
    assert [r.user_turn for r in runs] == [None, "scripted", "scripted"]
    assert [r.messages[-1].content for r in runs[1:]] == ["and for 20%?", "thanks, bot"]
    assert [e.reason for e in events if isinstance(e, ConversationEnded)] == ["script finished"]


def test_a_simulator_reply_that_does_not_parse_keeps_the_turns_and_marks_the_thread(
    fake_server: FakeOpenAI, fake_provider: str
) -> None:
    proto = sim_proto(max_turns=4)
    fake_server.responder = scripted(bad_at=2)
    runs, events = run_plan(proto)
    assert [r.status for r in runs] == ["ok", "ok", "error"]
    mark = runs[-1]
    assert mark.parent == runs[1].id and mark.user_turn == "simulated"
    assert mark.error is not None and "not JSON" in mark.error
    assert "simulated user failed" in mark.error
    ended = [e for e in events if isinstance(e, ConversationEnded)]
    assert ended[0].failed
    last = [e for e in events if isinstance(e, Progress)][-1]
    assert (last.done, last.total, last.failed) == (3, 3, 1)


def test_a_simulator_fault_keeps_the_turns(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = sim_proto(max_turns=4)
    fake_server.enqueue(Reply(text=json.dumps({"message": "q1", "done": False, "reason": ""})),
                        Reply(status=400, message="bad request"), model=SIM_MODEL)
    fake_server.responder = scripted()
    runs, _ = run_plan(proto)
    assert [r.status for r in runs] == ["ok", "ok", "error"]
    assert runs[-1].error is not None and "simulated user failed" in runs[-1].error


def test_a_model_fault_mid_conversation_keeps_the_turns(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = sim_proto(max_turns=4)

    def respond(rec: Recorded) -> Reply:
        if (rec.body or {}).get("model") != SIM_MODEL and assistant_turn(rec) == 3:
            return Reply(text="partial answer that", fault="cut", cut_after=2)
        return scripted()(rec)

    fake_server.responder = respond
    runs, events = run_plan(proto)
    assert [r.status for r in runs] == ["ok", "ok", "cut"]
    assert runs[2].output  # the partial text is kept
    ended = [e for e in events if isinstance(e, ConversationEnded)]
    assert ended[0].failed and "the reply failed" in ended[0].reason
    assert len(sim_requests(fake_server)) == 2


def test_cancel_keeps_the_turns_so_far(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = sim_proto(max_turns=6)
    fake_server.responder = scripted()

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        finished = 0

        def sink(event: EngineEvent) -> None:
            nonlocal finished
            events.append(event)
            if isinstance(event, CellFinished):
                finished += 1
                if finished == 2:  # between turns: no cell of this column is queued right now
                    engine.cancel_all()

        return await engine.run(proto, columns_only(proto), sink)

    runs, events = run_async(body)
    assert [r.status for r in runs] == ["ok", "ok"]
    assert [e.reason for e in events if isinstance(e, ConversationEnded)] == ["cancelled"]
    assert len(sim_requests(fake_server)) == 1


def test_cancel_while_the_assistant_streams(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = sim_proto(max_turns=6)

    def respond(rec: Recorded) -> Reply:
        if (rec.body or {}).get("model") != SIM_MODEL and assistant_turn(rec) == 2:
            return Reply(text="slow " * 200, tokens_per_s=50)
        return scripted()(rec)

    fake_server.responder = respond

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        task = asyncio.ensure_future(engine.run(proto, columns_only(proto), events.append))
        deadline = asyncio.get_running_loop().time() + 10
        while not any(isinstance(e, UserTurnWritten) for e in events):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        engine.cancel_all()
        return await task

    runs, _ = run_async(body)
    assert [r.status for r in runs] == ["ok", "cancelled"]
    assert runs[1].parent == runs[0].id


def test_plain_cases_beside_simulated_ones_keep_plan_order(
    fake_server: FakeOpenAI, fake_provider: str
) -> None:
    proto = sim_proto(max_turns=1)
    plain = proto.cases[0].model_copy(update={"id": "plain", "simulated_user": None})
    proto.cases.insert(0, plain)
    fake_server.responder = scripted()
    runs, _ = run_plan(proto)
    assert [(r.case, r.user_turn) for r in runs] == [("plain", None), ("c0", None), ("c0", "simulated")]


def test_an_unknown_simulator_model_marks_the_thread(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = sim_proto(max_turns=2)
    proto.models = [m for m in proto.models if m.id != "sim"]
    fake_server.responder = scripted()
    runs, _ = run_plan(proto)
    assert [r.status for r in runs] == ["ok", "error"]
    assert runs[1].error is not None and "'sim'" in runs[1].error
