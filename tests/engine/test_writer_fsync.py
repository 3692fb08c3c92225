"""The writer's journal: each stored run is written before anyone is told (so a SIGKILL cannot lose
it), and fsync'd in a worker thread, never on the event loop; `flush` waits for that fsync."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from app.core import journal as journal_module
from app.core.document import save_prototype
from app.core.journal import journal_path, read_journal
from app.core.prototype import Case, ModelTarget, Profile, Prototype, Run, Turn
from app.engine.writer import ResultWriter


def _proto() -> Prototype:
    return Prototype(name="w", profiles=[Profile(id="p")],
                     models=[ModelTarget(id="m", provider="ollama", model="x")],
                     cases=[Case(id=f"c{i}", turns=[Turn(content="hi")]) for i in range(3)])


def _run(case: str) -> Run:
    return Run.model_validate({"id": f"run-{case}", "created": "2026-11-29T00:00:00Z", "profile": "p",
                               "model": "m", "case": case, "output": "out"})


def test_runs_are_on_disk_at_once_and_fsynced_off_the_loop(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.yaml"
    proto = _proto()
    save_prototype(proto, path)
    synced_in: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced_in.append(threading.current_thread().name)
        real_fsync(fd)

    monkeypatch.setattr(journal_module.os, "fsync", recording_fsync)
    seen_at_once: list[list[str]] = []

    async def body() -> None:
        writer = ResultWriter(proto, path, interval=60.0)
        loop_thread = threading.current_thread().name
        for case in ("c0", "c1", "c2"):
            writer.add(_run(case))
            # no await in between: what a SIGKILL right now would leave is already in the journal
            seen_at_once.append([r.case for r in read_journal(path).runs])
        deadline = asyncio.get_running_loop().time() + 5
        while writer._journal is not None and writer._journal.unsynced:
            assert asyncio.get_running_loop().time() < deadline, "the journal was never fsynced"
            await asyncio.sleep(0.01)
        assert synced_in and loop_thread not in synced_in
        await writer.flush()

    asyncio.run(body())
    assert seen_at_once == [["c0"], ["c0", "c1"], ["c0", "c1", "c2"]]
    assert len(synced_in) <= 3  # coalesced: never more fsyncs than cells
    assert not journal_path(path).exists()  # flushed: the file holds every run, the journal is gone
