"""A simulated user instead of fixed turns: it writes the first message (once per case and sample,
shared by the columns), each column answers it, and the conversation goes on as usual. How a
conversation ended is stored on its last run; simulator calls are counted apart from cells."""

from __future__ import annotations

import json

from fakeserver import FakeOpenAI, Recorded, Reply
from test_simulate import SIM_MODEL, assistant_turn, run_plan, scripted, sim_proto, sim_requests

from app.core.prototype import ConversationEnd, Prototype, Run
from app.core.results import record_conversation_end, record_runs
from app.core.threads import cell_states, conversation
from app.engine.events import CellFailed, ConversationEnded, EngineEvent, Progress, UserTurnWritten


def opening_proto(*, columns: int = 1, **sim: object) -> Prototype:
    proto = sim_proto(columns=columns, **sim)
    proto.cases[0].turns = []
    return proto


def ended(events: list[EngineEvent]) -> list[ConversationEnded]:
    return [e for e in events if isinstance(e, ConversationEnded)]


def last_progress(events: list[EngineEvent]) -> Progress:
    return [e for e in events if isinstance(e, Progress)][-1]


def test_the_simulated_user_writes_the_first_message_once_for_every_column(
    fake_server: FakeOpenAI, fake_provider: str
) -> None:
    proto = opening_proto(columns=2, max_turns=4)
    fake_server.responder = scripted(done_at=3)
    runs, events = run_plan(proto)
    asked = sim_requests(fake_server)
    first_asks = [r for r in asked if "Write user message 1 " in r.messages[-1]["content"]]
    assert len(first_asks) == 1  # no column has answered yet: one message for all
    assert "has not started yet" in first_asks[0].messages[-1]["content"]
    schema = (first_asks[0].body or {})["response_format"]["json_schema"]
    assert schema["name"] == "simulated_user_opening"  # not done, not empty: enforced by the grammar
    assert schema["schema"]["properties"]["done"]["enum"] == [False]
    later = [r for r in asked if r is not first_asks[0]]
    names = {(r.body or {})["response_format"]["json_schema"]["name"] for r in later}
    assert names == {"simulated_user_turn"}
    for model in ("m0", "m1"):
        mine = [r for r in runs if r.model == model]
        root = mine[0]
        assert root.parent is None and root.user_turn == "simulated"
        assert [m.role for m in root.messages] == ["system", "user"]
        assert root.messages[-1].content == "question 1"
        assert [r.user_turn for r in mine] == ["simulated", "simulated"]
        assert conversation(root, runs) == tuple(mine)
        assert mine[-1].conversation_end == ConversationEnd(by="done", reason="turn 3")
        assert mine[0].conversation_end is None
    over = ended(events)
    assert [(e.turns, e.end.by if e.end else None) for e in over] == [(2, "done"), (2, "done")]
    assert {e.last_run for e in over} == {r.id for r in runs if r.conversation_end is not None}
    assert [e.turn for e in events if isinstance(e, UserTurnWritten)].count(1) == 2
    progress = last_progress(events)
    assert (progress.done, progress.total) == (4, 4)


def test_a_script_opens_the_conversation_with_no_simulator_call(
    fake_server: FakeOpenAI, fake_provider: str
) -> None:
    proto = opening_proto(max_turns=3, script=["hi {{who}}", "and 20%?"])
    proto.cases[0].vars = {"who": "bot"}
    fake_server.responder = scripted()
    runs, events = run_plan(proto)
    assert sim_requests(fake_server) == []
    assert [r.messages[-1].content for r in runs] == ["hi bot", "and 20%?"]
    assert [r.user_turn for r in runs] == ["scripted", "scripted"]
    assert [assistant_turn_of(r) for r in runs] == [1, 2]
    assert runs[-1].conversation_end is not None and runs[-1].conversation_end.by == "script_end"
    progress = last_progress(events)
    assert (progress.done, progress.total) == (2, 2)


def assistant_turn_of(run: Run) -> int:
    return sum(m.role == "user" for m in run.messages)


def test_max_turns_counts_the_first_message(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = opening_proto(max_turns=2)
    fake_server.responder = scripted()
    runs, events = run_plan(proto)
    assert len(runs) == 2 and len(sim_requests(fake_server)) == 2
    assert runs[-1].conversation_end == ConversationEnd(by="max_turns", reason="max_turns (2) reached")
    assert ended(events)[0].reason == "max_turns (2) reached"


def test_a_simulator_fault_on_the_first_message_fails_each_column_saying_why(
    fake_server: FakeOpenAI, fake_provider: str
) -> None:
    proto = opening_proto(columns=2, max_turns=3)
    fake_server.responder = scripted(bad_at=1)
    runs, events = run_plan(proto)
    assert [r.status for r in runs] == ["error", "error"]
    for run in runs:
        assert run.user_turn == "simulated" and run.parent is None
        assert run.error is not None and "simulated user failed" in run.error and "not JSON" in run.error
        assert run.conversation_end is not None and run.conversation_end.by == "simulator_fault"
    assert len(fake_server.chat_requests()) == 1  # the simulator only: no column was sent anything
    assert all(e.failed for e in ended(events))
    assert len([e for e in events if isinstance(e, CellFailed)]) == 2
    progress = last_progress(events)
    assert (progress.done, progress.total, progress.failed) == (2, 2, 2)


def test_done_before_a_first_message_is_a_fault_not_an_empty_conversation(
    fake_server: FakeOpenAI, fake_provider: str
) -> None:
    proto = opening_proto(max_turns=3)
    fake_server.responder = scripted(done_at=1)
    runs, _ = run_plan(proto)
    (run,) = runs
    assert run.status == "error" and run.conversation_end is not None
    assert run.conversation_end.by == "simulator_fault"
    assert "done before writing a first message" in run.conversation_end.reason


def test_simulator_calls_are_counted_apart_from_cells(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = sim_proto(max_turns=2)
    fake_server.responder = scripted()
    runs, events = run_plan(proto)
    progress = last_progress(events)
    asked = sim_requests(fake_server)
    assert progress.simulator_calls == len(asked) == 2
    cell_tokens = sum((r.usage.prompt_tokens or 0) + (r.usage.completion_tokens or 0) for r in runs)
    assert progress.tokens == cell_tokens  # the cells' figure is unchanged
    assert progress.simulator_tokens > 0
    assert progress.done == len(runs) == 3


def test_an_opening_answer_is_current_not_out_of_date(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = opening_proto(max_turns=2)
    fake_server.responder = scripted()
    runs, _ = run_plan(proto)
    record_runs(proto, runs)
    (state,) = cell_states(proto).values()
    assert state.current is not None and state.current.id == runs[0].id
    assert not state.stale
    proto.profiles[0].system_prompt = "You are someone else."
    (state,) = cell_states(proto).values()
    assert state.stale  # the part of the request the file says still counts


def test_the_end_is_recorded_on_the_stored_run(fake_server: FakeOpenAI, fake_provider: str) -> None:
    """Consumers store runs as they end, then the end when the conversation is over."""
    proto = sim_proto(max_turns=1)
    fake_server.responder = scripted()
    runs, events = run_plan(proto)
    stored = [r.model_copy(update={"conversation_end": None}) for r in runs]
    record_runs(proto, stored)
    (over,) = ended(events)
    assert over.end is not None and over.last_run == stored[-1].id
    assert record_conversation_end(proto, over.last_run, over.end) is stored[-1]
    assert proto.runs[-1].conversation_end == ConversationEnd(by="max_turns", reason="max_turns (1) reached")
    assert record_conversation_end(proto, over.last_run, over.end) is None  # already says so
    assert record_conversation_end(proto, "no-such-run", over.end) is None


def test_a_simulator_that_opens_then_faults_mid_way_keeps_the_turns(
    fake_server: FakeOpenAI, fake_provider: str
) -> None:
    proto = opening_proto(max_turns=4)
    fake_server.enqueue(Reply(text=json.dumps({"message": "q1", "done": False, "reason": ""})),
                        Reply(status=400, message="bad request"), model=SIM_MODEL)

    def answer(rec: Recorded) -> Reply:
        return Reply(text=f"answer {assistant_turn(rec)}")

    fake_server.responder = answer
    runs, _ = run_plan(proto)
    assert [r.status for r in runs] == ["ok", "error"]
    assert runs[0].messages[-1].content == "q1"
    assert runs[1].conversation_end is not None and runs[1].conversation_end.by == "simulator_fault"
