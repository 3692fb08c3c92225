"""Tools end to end against the fake server: offered, called, mocked, continued, recorded, graded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from engine_kit import make_proto, run_async
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.evals.assertions import grade_case
from app.core.messages import continue_messages
from app.core.prototype import Assertion, Prototype, Run, ToolSpec
from app.core.threads import cell_states
from app.core.tools import MAX_TOOL_ROUNDS
from app.engine.engine import Engine
from app.engine.events import CellDelta, CellToolCall, CellToolResult, EngineEvent
from app.engine.plan import RunPlan

CANVAS = ToolSpec(
    name="open_canvas",
    description="Open a side document",
    parameters={"type": "object", "properties": {"title": {"type": "string"}, "content": {"type": "string"}},
                "required": ["title", "content"]},
    mock={"result": "opened"},
)


def tool_proto(*, required: bool = False) -> Prototype:
    proto = make_proto(models=[("a", "fake", "ma")])
    proto.tools = [CANVAS.model_copy(update={"required": required})]
    proto.profiles[0].tools = ["open_canvas"]
    return proto


def run_cells(proto: Prototype) -> tuple[list[Run], list[EngineEvent]]:
    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    return run_async(body)


def test_round_trip_call_mock_continuation_and_assertion(fake_server: FakeOpenAI, fake_provider: str) -> None:
    arguments = json.dumps({"title": "Launch post", "content": "Hello"})
    fake_server.enqueue(Reply(text="Opening a canvas.", tool_calls=[("open_canvas", arguments)]),
                        Reply(text="Done: the draft is in the canvas."))
    runs, events = run_cells(tool_proto(required=True))
    first, second = fake_server.chat_requests()
    offered = first.body["tools"]  # type: ignore[index]
    assert offered == [{"type": "function", "function": {
        "name": "open_canvas", "description": "Open a side document", "parameters": CANVAS.parameters}}]
    assert first.body["tool_choice"] == {"type": "function", "function": {"name": "open_canvas"}}  # type: ignore[index]
    assert "tool_choice" not in (second.body or {}), "a forced call is asked for once, not every round"
    assistant, tool = second.messages[-2:]
    call_id = assistant["tool_calls"][0]["id"]
    assert assistant["content"] == "Opening a canvas."
    assert assistant["tool_calls"][0]["function"] == {"name": "open_canvas", "arguments": arguments}
    assert tool == {"role": "tool", "tool_call_id": call_id, "content": '{"result":"opened"}'}

    (run,) = runs
    assert run.status == "ok" and run.finish_reason == "stop" and run.notice is None
    assert run.output == "Opening a canvas.\n\nDone: the draft is in the canvas."
    assert [(c.id, c.name, c.arguments, c.result) for c in run.tool_calls] == [
        (call_id, "open_canvas", arguments, '{"result":"opened"}')]
    assert [m.role for m in run.messages] == ["system", "user", "assistant", "tool"]
    assert run.params.tools == offered
    streamed = "".join(e.arguments for e in events if isinstance(e, CellToolCall))
    assert streamed == arguments, "the arguments stream as they arrive"
    assert [e.call.result for e in events if isinstance(e, CellToolResult)] == ['{"result":"opened"}']
    shown = "".join(e.text for e in events if isinstance(e, CellDelta))
    assert shown == run.output

    wanted = {"name": "open_canvas", "arguments": {"title": "Launch post"}}
    checks = [("a0", Assertion(type="tool-call", value=wanted)),
              ("a1", Assertion(type="canvas-opened", value="launch")),
              ("a2", Assertion(type="not-tool-call", value="update_canvas")),
              ("a3", Assertion(type="valid-tool-call"))]
    graded = asyncio.run(grade_case(checks, run.output, tool_calls=run.tool_calls, tools=[CANVAS]))
    assert [r.passed for r in graded.results] == [True, True, True, True], graded.results
    wrong = asyncio.run(grade_case([("a", Assertion(type="tool-call", value={
        "name": "open_canvas", "arguments": {"title": "Other"}}))], run.output, tool_calls=run.tool_calls))
    assert not wrong.passed


def test_stored_tool_run_is_current_and_continues_with_its_exchange(fake_server: FakeOpenAI,
                                                                  fake_provider: str) -> None:
    call = ("open_canvas", '{"title": "T", "content": "C"}')
    fake_server.enqueue(Reply(text="Opening.", tool_calls=[call]), Reply(text="Opened."))
    proto = tool_proto()
    runs, _ = run_cells(proto)
    assert runs[0].output == "Opening.\n\nOpened."
    proto.runs.extend(runs)
    state = cell_states(proto)[("c0", "p0", "a", 0)]
    assert state.current is runs[0] and not state.stale, "the tool exchange does not make the answer stale"
    proto.tools[0] = proto.tools[0].model_copy(update={"description": "changed"})
    assert cell_states(proto)[("c0", "p0", "a", 0)].stale, "editing an offered tool does"
    follow = continue_messages(runs[0], "Make it shorter")
    assert [m.role for m in follow] == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert follow[4].content == "Opened.", "the last round's text, not the rounds before it again"
    call = follow[2].tool_calls[0]
    assert call.name == "open_canvas" and follow[3].tool_call_id == call.id


def test_case_mock_overrides_the_tool_mock(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = tool_proto()
    proto.cases[0].tool_mocks = {"open_canvas": "canvas is read-only today"}
    fake_server.enqueue(Reply(text="", tool_calls=[("open_canvas", "{}")]), Reply(text="ok"))
    runs, _ = run_cells(proto)
    assert fake_server.chat_requests()[1].messages[-1]["content"] == "canvas is read-only today"
    assert runs[0].tool_calls[0].result == "canvas is read-only today"


def test_loop_stops_after_max_rounds_with_a_notice(fake_server: FakeOpenAI, fake_provider: str) -> None:
    fake_server.default = Reply(text="again", tool_calls=[("open_canvas", '{"title": "x", "content": "y"}')])
    runs, _ = run_cells(tool_proto())
    assert len(fake_server.chat_requests()) == MAX_TOOL_ROUNDS + 1
    (run,) = runs
    assert run.status == "ok" and run.finish_reason == "tool_calls"
    assert run.notice is not None and f"stopped after {MAX_TOOL_ROUNDS} tool rounds" in run.notice
    assert [c.result is not None for c in run.tool_calls] == [True] * MAX_TOOL_ROUNDS + [False]


def test_no_call_says_so_plainly(fake_server: FakeOpenAI, fake_provider: str) -> None:
    fake_server.default = Reply(text="Here is a short answer.")
    runs, _ = run_cells(tool_proto())
    assert runs[0].notice == "this model did not call any tool; offered: open_canvas"
    assert runs[0].tool_calls == []


def test_unknown_tool_gets_an_error_result_not_a_crash(fake_server: FakeOpenAI, fake_provider: str) -> None:
    fake_server.enqueue(Reply(text="", tool_calls=[("delete_everything", "{}")]), Reply(text="sorry"))
    runs, _ = run_cells(tool_proto())
    assert "unknown tool 'delete_everything'" in (runs[0].tool_calls[0].result or "")
    assert runs[0].output == "sorry"


def test_cached_rounds_replay_the_calls(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = tool_proto()
    fake_server.enqueue(Reply(text="", tool_calls=[("open_canvas", '{"title": "T", "content": "C"}')]),
                        Reply(text="Opened."))

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        first = await engine.run(proto, RunPlan(), events.append)
        again = await engine.run(proto, RunPlan(), events.append)
        return first + again

    (first, again), _ = run_async(body)
    assert len(fake_server.chat_requests()) == 2, "the second run is answered from the cache, both rounds"
    assert again.cached and again.output == first.output
    assert [(c.name, c.arguments, c.result) for c in again.tool_calls] == [
        (c.name, c.arguments, c.result) for c in first.tool_calls]


def test_run_table_shows_calls_and_notices_compactly(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setenv("COLUMNS", "200")
    from app.commands.run import print_table
    from app.core.prototype import ToolCall

    call = ToolCall(id="c1", name="open_canvas", arguments='{"title": "Launch post", "content": "x"}',
                    result="ok")
    with_call = Run(id="r1", created="t", profile="p", model="m", case="c", output="Drafted.",
                    tool_calls=[call])
    without = Run(id="r2", created="t", profile="p", model="m", case="d", output="Hi.",
                  notice="this model did not call any tool; offered: open_canvas")
    out = io.StringIO()
    print_table([with_call, without], out=out)
    lines = out.getvalue().splitlines()
    assert '[open_canvas(title: "Launch post", content: "x")] Drafted.' in lines[1]
    assert "(this model did not call any tool; offered: open_canvas) Hi." in lines[2]


def test_report_counts_tool_calls_per_variant(fake_server: FakeOpenAI, fake_provider: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main
    from app.core.document import save_prototype

    proto = make_proto(profiles=2, models=[("a", "fake", "ma")], cases=2)
    proto.tools = [CANVAS]
    proto.profiles[0].tools = ["open_canvas"]

    def reply(rec: Recorded) -> Reply:
        asked = rec.messages[-1]
        if (rec.body or {}).get("tools") and asked["role"] == "user" and asked["content"] == "case c0":
            return Reply(text="", tool_calls=[("open_canvas", '{"title": "T", "content": "C"}')])
        return Reply(text="plain")

    fake_server.responder = reply
    runs, _ = run_cells(proto)
    proto.runs.extend(runs)
    path = tmp_path / "p.yaml"
    save_prototype(proto, path)
    assert main(["report", str(path)]) == 0
    out = capsys.readouterr().out
    assert "p0/a: 1 of 2 answers called a tool (open_canvas 1); canvas opened in 1" in out
    assert "p1/a" not in out.split("Tool calls")[1], "a profile without tools is not counted"
    assert main(["report", "--json", str(path)]) == 0
    usage = json.loads(capsys.readouterr().out)["tool_usage"]
    assert usage == [{"profile": "p0", "model": "a", "answers": 2, "with_call": 1, "canvas_opened": 1,
                      "calls": {"open_canvas": 1}}]
