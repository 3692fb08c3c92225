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
