"""EngineThread: a sync caller (the GUI) drives the engine on a loop in another thread."""

from __future__ import annotations

import asyncio
import queue
import threading

import pytest
from engine_kit import make_proto
from fakeserver import FakeOpenAI, Reply

from app.engine.engine import Engine
from app.engine.events import CellCancelled, CellDelta, CellFinished, EngineEvent
from app.engine.plan import RunPlan
from app.engine.thread import EngineThread
from app.providers.hub import ProviderHub


def test_submit_and_call_run_on_the_loop_thread() -> None:
    with EngineThread() as host:
        async def where() -> str:
            await asyncio.sleep(0)
            return threading.current_thread().name

        assert host.submit(where()).result(5) == "protostudio-engine"
        assert host.call(lambda x: (threading.current_thread().name, x * 2), 21).result(5) == (
            "protostudio-engine", 42)
        with pytest.raises(ZeroDivisionError):
            host.call(lambda: 1 / 0).result(5)
    assert not host.running
    with pytest.raises(RuntimeError, match="stopped"):
        host.call(print)


def test_stop_cancels_what_still_runs_and_joins() -> None:
    host = EngineThread()
    future = host.submit(asyncio.sleep(60))
    host.stop()
    assert future.cancelled()
    assert not host.running


def test_gui_style_run_with_cancel_from_another_thread(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=2, models=[("a", "fake", "ma")], cases=1)
    fake_server.default = Reply(text=" ".join(["meow"] * 80), tokens_per_s=40)
    inbox: queue.Queue[EngineEvent] = queue.Queue()
    with EngineThread() as host:
        hub = host.call(ProviderHub).result(5)
        engine = host.call(Engine, hub).result(5)
        future = host.submit(engine.run(proto, RunPlan(use_cache=False), inbox.put))
        first = inbox.get(timeout=10)
        while not isinstance(first, CellDelta):
            first = inbox.get(timeout=10)
        host.call(engine.cancel_cell, first.cell).result(5)
        runs = future.result(20)
        host.submit(hub.aclose()).result(5)
    by_cell = {(r.profile, r.model): r.status for r in runs}
    assert by_cell[first.cell.variant] == "cancelled"
    assert sorted(by_cell.values()) == ["cancelled", "ok"]
    ended = []
    while not inbox.empty():
        event = inbox.get()
        if isinstance(event, CellFinished | CellCancelled):
            ended.append(event)
    assert len(ended) == 2
