"""Images reach the server as data-URL parts; a model that rejects them fails only its own cell."""

from __future__ import annotations

import base64
from pathlib import Path

from engine_kit import make_proto, run_async
from fakeserver import FakeOpenAI, Reply

from app.core.images import attach
from app.core.prototype import Prototype, Run
from app.engine.engine import Engine
from app.engine.events import EngineEvent
from app.engine.plan import RunPlan

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))


def image_proto(tmp_path: Path, models: list[tuple[str, str, str]]) -> Prototype:
    (tmp_path / "shot.png").write_bytes(PNG)
    proto = make_proto(models=models)
    proto.base_dir = str(tmp_path)
    proto.cases[0].turns[0].images = [attach(tmp_path, tmp_path / "shot.png")]
    return proto


def run_cells(proto: Prototype) -> list[Run]:
    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    return run_async(body)[0]


def test_image_parts_reach_the_server(tmp_path: Path, fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = image_proto(tmp_path, [("a", "fake", "vision")])
    (run,) = run_cells(proto)
    (request,) = fake_server.chat_requests()
    user = request.messages[-1]
    assert user["content"] == [
        {"type": "text", "text": "case c0"},
        {"type": "image_url",
         "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()}},
    ]
    assert run.status == "ok" and run.output == "Echo: case c0"
    assert run.messages[-1].images[0].path == "shot.png", "the run stores the reference, not the bytes"


def test_a_model_that_rejects_images_fails_only_its_cell(tmp_path: Path, fake_server: FakeOpenAI,
                                                         fake_provider: str) -> None:
    proto = image_proto(tmp_path, [("text", "fake", "text-only"), ("vision", "fake", "vision")])
    fake_server.enqueue(Reply(status=400, code="invalid_request_error",
                              message="Invalid content type. image_url is only supported by certain models."),
                        model="text-only")
    runs = {run.model: run for run in run_cells(proto)}
    assert runs["vision"].status == "ok"
    failed = runs["text"]
    assert failed.status == "error"
    assert failed.error is not None and "did not accept the images" in failed.error
    assert "text-only may not take image input" in failed.error


def test_a_missing_image_fails_its_cells_without_sending(tmp_path: Path, fake_server: FakeOpenAI,
                                                         fake_provider: str) -> None:
    proto = image_proto(tmp_path, [("a", "fake", "vision")])
    (tmp_path / "shot.png").unlink()
    (run,) = run_cells(proto)
    assert run.status == "error" and "image 'shot.png' not found" in (run.error or "")
    assert fake_server.chat_requests() == []
