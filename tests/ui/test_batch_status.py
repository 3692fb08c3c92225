"""The Evals tab shows a pending provider batch, checks its status and cancels it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fakebatch import FakeBatchServer

from app.core.document import parse_prototype
from app.engine.batch import BatchRunner
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub
from app.providers.registry import Registry
from app.ui.document_model import Document
from app.ui.evals_panel import EvalsPanel

TIMEOUT = 20_000
PROTO = """\
protostudio: 1
name: Batch UI
profiles: [{id: p1}]
models: [{id: b, provider: bfake, model: batch-model}]
cases:
  - {id: c1, turns: [{content: one}], assert: [{type: contains, value: one}]}
  - {id: c2, turns: [{content: two}]}
"""


def test_pending_batch_shows_and_cancels(qtbot, tmp_path: Path) -> None:
    with FakeBatchServer() as server:
        server.hold = True
        Registry().add("bfake", server.base_url, needs_key=False)
        proto = parse_prototype(PROTO)

        async def submit() -> None:
            hub = ProviderHub()
            runner = BatchRunner(hub)
            await runner.submit(proto, await runner.select(proto, RunPlan()), "eval", lambda p: None)
            await hub.aclose()

        asyncio.run(submit())
        document = Document(proto, tmp_path / "p.yaml")
        panel = EvalsPanel(document)
        qtbot.addWidget(panel)
        try:
            strip = panel.batches
            assert not strip.isHidden()
            (job,) = proto.batches
            label, check, cancel = strip.rows[job.id]
            assert job.batch_id in label.text() and "2 requests" in label.text()
            check.click()
            qtbot.waitUntil(lambda: "in_progress" in label.text(), timeout=TIMEOUT)
            cancel.click()
            qtbot.waitUntil(lambda: job.status == "cancelling", timeout=TIMEOUT)
            assert document.dirty
            check.click()
            qtbot.waitUntil(lambda: job.status == "cancelled", timeout=TIMEOUT)
            assert server.batches[job.batch_id].status == "cancelled"
        finally:
            panel.shutdown()


def _submitted(server: FakeBatchServer, kind: str = "run"):
    Registry().add("bfake", server.base_url, needs_key=False)
    proto = parse_prototype(PROTO)

    async def submit() -> None:
        hub = ProviderHub()
        runner = BatchRunner(hub)
        await runner.submit(proto, await runner.select(proto, RunPlan()), kind, lambda p: None)
        await hub.aclose()

    asyncio.run(submit())
    return proto


def test_collect_brings_an_ended_batch_into_the_document(qtbot, tmp_path: Path) -> None:
    with FakeBatchServer() as server:
        server.steps = 3  # validating, in_progress, then completed on the third status request
        server.answer = lambda cid, body: None if "two" in str(body) else "Echo: one"
        proto = _submitted(server)
        document = Document(proto, tmp_path / "p.yaml")
        panel = EvalsPanel(document)
        qtbot.addWidget(panel)
        try:
            strip = panel.batches
            (job,) = proto.batches
            collect = strip.collect_buttons[job.id]
            collect.click()  # still running: nothing is added, the row says where it stands
            qtbot.waitUntil(lambda: collect.isEnabled() and "in_progress" in strip.rows[job.id][0].text(),
                            timeout=TIMEOUT)
            assert proto.runs == [] and job.status == "in_progress"
            while job.status != "collected":  # each click is one status request; the third ends it
                collect.click()
                qtbot.waitUntil(lambda: job.status == "collected" or collect.isEnabled(), timeout=TIMEOUT)
            assert sorted((r.case, r.status) for r in proto.runs) == [("c1", "ok"), ("c2", "error")]
            ok = next(r for r in proto.runs if r.status == "ok")
            assert ok.output == "Echo: one" and ok.profile == "p1" and ok.model == "b"
            assert job.id not in strip.rows  # no longer pending: its row is gone
            assert "1 answers and 1 errors" in strip.notice.text() and not strip.isHidden()
            assert document.dirty
            assert server.created == 1  # collecting never submits anything
        finally:
            panel.shutdown()


def test_collect_reports_a_failed_batch(qtbot, tmp_path: Path) -> None:
    with FakeBatchServer() as server:
        server.fate = "fail"
        proto = _submitted(server)
        document = Document(proto, tmp_path / "p.yaml")
        panel = EvalsPanel(document)
        qtbot.addWidget(panel)
        try:
            (job,) = proto.batches
            panel.batches.collect_buttons[job.id].click()
            qtbot.waitUntil(lambda: job.status == "failed", timeout=TIMEOUT)
            assert proto.runs == [] and "failed" in panel.batches.notice.text()
        finally:
            panel.shutdown()
