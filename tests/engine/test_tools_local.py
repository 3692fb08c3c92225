"""The bundled model offered a tool: it either calls it (the loop answers) or the cell says plainly
that it did not. SmolLM2-135M's chat template has no tool support, so today it is the notice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.core.document import load_prototype
from app.core.prototype import Run
from app.engine.engine import Engine
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub
from app.providers.local_model import LocalModel

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "prototypes" / "canvas-trigger.yaml"


def test_bundled_model_with_tools_calls_or_says_it_did_not() -> None:
    proto = load_prototype(EXAMPLE)
    proto.model("local").params.max_tokens = 24
    proto.model("local").params.temperature = 0.0

    async def main() -> list[Run]:
        local = LocalModel(slots=1)
        hub = ProviderHub(local=local)
        try:
            plan = RunPlan(profiles=["canvas-for-documents"], models=["local"], cases=["blog-post-draft"],
                           use_cache=False)
            return await Engine(hub).run(proto, plan, lambda event: None)
        finally:
            await hub.aclose()
            local.shutdown()

    (run,) = asyncio.run(main())
    assert run.status == "ok", run.error
    assert run.params.tools and run.params.tools[0]["function"]["name"] == "open_canvas"
    if run.tool_calls:  # a model that calls: every call was answered and the answer went on
        assert all(call.result is not None for call in run.tool_calls[:4])
        assert any(m.role == "tool" for m in run.messages)
    else:
        assert run.notice == "this model did not call any tool; offered: open_canvas, update_canvas"
        assert run.output.strip()
