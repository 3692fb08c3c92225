"""Headless results are saved as they finish, atomically, and reload as a valid prototype."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine_kit import make_proto, run_async
from fakeserver import FakeOpenAI, Reply

from app.core.document import load_prototype, save_prototype
from app.core.prototype import Run
from app.engine.engine import Engine
from app.engine.events import Cell, CellCancelled, CellDelta, EngineEvent
from app.engine.plan import RunPlan
from app.engine.writer import ResultWriter


def test_finished_runs_are_saved_while_the_run_goes_on(tmp_path: Path, fake_server: FakeOpenAI,
                                                       fake_provider: str) -> None:
    path = tmp_path / "p.yaml"
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=3)
    save_prototype(proto, path)
    fake_server.responder = lambda rec: Reply(ttft=1.0) if "c2" in str(rec.messages) else Reply()
    on_disk_midway: list[int] = []

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        writer = ResultWriter(proto, path, interval=0.05)

        async def watch() -> None:
            while len(load_prototype(path).runs) < 2:
                await asyncio.sleep(0.02)
            on_disk_midway.append(len(load_prototype(path).runs))

        watcher = asyncio.ensure_future(watch())
        runs = await engine.run(proto, RunPlan(use_cache=False), writer.on_event)
        await writer.flush()
        await asyncio.wait_for(watcher, 5)
        return runs

    runs, _ = run_async(body, concurrency=1)
    assert on_disk_midway == [2], "the first two runs were not on disk before the slow third finished"
    saved = load_prototype(path)
    assert [r.id for r in saved.runs] == [r.id for r in runs]
    assert saved.runs[0].messages == runs[0].messages


def test_cancelled_cells_with_text_are_kept_and_empty_ones_dropped(tmp_path: Path, fake_server: FakeOpenAI,
                                                                   fake_provider: str) -> None:
    path = tmp_path / "p.yaml"
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=3)
    save_prototype(proto, path)
    fake_server.default = Reply(text=" ".join(["purr"] * 50), tokens_per_s=40)

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        writer = ResultWriter(proto, path)

        def on_event(event: EngineEvent) -> None:
            writer.on_event(event)
            events.append(event)
            if isinstance(event, CellDelta) and event.cell == Cell("c0", "p0", "a") and event.text.strip():
                engine.cancel_all()

        runs = await engine.run(proto, RunPlan(use_cache=False), on_event)
        await writer.flush()
        return runs

    _, events = run_async(body, concurrency=1)
    assert sum(isinstance(e, CellCancelled) for e in events) == 3
    saved = load_prototype(path).runs
    assert len(saved) == 1 and saved[0].status == "cancelled" and saved[0].output.startswith("purr")


def test_baseline_runs_are_not_written_unless_asked(tmp_path: Path, fake_server: FakeOpenAI,
                                                   fake_provider: str) -> None:
    path = tmp_path / "p.yaml"
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=1)
    save_prototype(proto, path)

    async def body(engine: Engine, events: list[EngineEvent]) -> int:
        writer = ResultWriter(proto, path)
        await engine.run(proto, RunPlan(baseline=True, use_cache=False), writer.on_event)
        await writer.flush()
        return len(proto.runs)

    count, _ = run_async(body)
    assert count == 0 and load_prototype(path).runs == []
    assert [m["role"] for m in fake_server.chat_requests()[0].messages] == ["user"]
