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


def test_anthropic_message_batch_checks_collects_and_cancels(qtbot, tmp_path: Path) -> None:
    """The same strip drives an Anthropic Message Batch: status, Collect, and Cancel of another."""
    from fakeanthropicbatch import FakeAnthropicBatches

    from app.providers.keys import KeyStore
    from app.providers.registry import host_of

    with FakeAnthropicBatches(api_key="ui-key-not-secret") as server:
        KeyStore().store("anthropic", host_of(server.base_url), "ui-key-not-secret")
        server.steps = 3
        target = f"{{id: b, provider: anthropic, model: claude-x, base_url: '{server.base_url}'}}"
        text = PROTO.replace("{id: b, provider: bfake, model: batch-model}", target)
        proto = parse_prototype(text)

        async def submit(use_cache: bool = True) -> None:
            hub = ProviderHub()
            runner = BatchRunner(hub)
            plan = RunPlan(use_cache=use_cache)
            await runner.submit(proto, await runner.select(proto, plan), "run", lambda p: None)
            await hub.aclose()

        asyncio.run(submit())
        document = Document(proto, tmp_path / "p.yaml")
        panel = EvalsPanel(document)
        qtbot.addWidget(panel)
        try:
            strip = panel.batches
            (job,) = proto.batches
            assert job.batch_id is not None and job.batch_id.startswith("msgbatch_")
            label, check, _cancel = strip.rows[job.id]
            check.click()
            qtbot.waitUntil(lambda: "0/2 done" in label.text(), timeout=TIMEOUT)
            collect = strip.collect_buttons[job.id]
            while job.status != "collected":
                collect.click()
                qtbot.waitUntil(lambda: job.status == "collected" or collect.isEnabled(), timeout=TIMEOUT)
            outputs = sorted((r.case, r.output) for r in proto.runs)
            assert outputs == [("c1", "Echo: one"), ("c2", "Echo: two")]
            assert "2 answers and 0 errors" in strip.notice.text() and server.created == 1

            server.hold = True
            asyncio.run(submit(use_cache=False))  # the same cells again, as a batch still running
            second = proto.batches[-1]
            document.evals_edited()
            qtbot.waitUntil(lambda: second.id in strip.rows, timeout=TIMEOUT)
            strip.rows[second.id][2].click()
            qtbot.waitUntil(lambda: second.status == "cancelling", timeout=TIMEOUT)
            assert server.batches[second.batch_id].status == "canceling"
        finally:
            panel.shutdown()
