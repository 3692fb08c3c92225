"""`protostudio run FILE --batch --json`: one documented JSON object on stdout (BatchReport)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakebatch import FakeBatchServer
from fakeserver import FakeOpenAI
from test_batch import KEY, _file, _proto

from app.cli import main
from app.core.document import load_prototype
from app.providers.registry import Registry

KEYS = {"file", "kind", "status", "error", "cells", "batches", "not_batchable", "runs"}


@pytest.fixture
def batch_server(monkeypatch: pytest.MonkeyPatch):
    with FakeBatchServer(api_key=KEY) as server:
        Registry().add("bfake", server.base_url, key_env="BFAKE_KEY")
        monkeypatch.setenv("BFAKE_KEY", KEY)
        yield server


def _report(capsys: pytest.CaptureFixture[str]) -> dict:
    out = capsys.readouterr().out
    data = json.loads(out)  # stdout holds the object and nothing else
    assert set(data) == KEYS
    return data


def test_json_names_the_batch_its_cells_and_partial_failures(
    batch_server: FakeBatchServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch_server.answer = lambda cid, body: None if "second" in json.dumps(body) else "fine"
    path = _file(tmp_path, _proto())
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01", "--json"]) == 1  # 2 requests failed
    data = _report(capsys)
    (job,) = load_prototype(path).batches
    assert (data["kind"], data["status"], data["error"], data["file"]) == ("run", "done", None, str(path))
    assert data["cells"] == {"sent": 6, "cached": 0, "in_file": 0, "pending": 0, "interactive": 0}
    assert data["batches"] == [{
        "id": job.id, "batch_id": job.batch_id, "model": "b", "status": "completed", "collected": True,
        "requests": 6, "answers": 4, "errors": 2, "unanswered": 0, "skipped": [],
    }]
    assert data["not_batchable"] == []
    assert sorted(r["status"] for r in data["runs"]) == ["error"] * 2 + ["ok"] * 4
    assert {r["id"] for r in data["runs"]} == {r.id for r in load_prototype(path).runs}

    # the next --batch sends only the two failed cells again, in a new batch
    batch_server.answer = lambda cid, body: "fine now"
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01", "--json"]) == 0
    again = _report(capsys)
    assert again["cells"] == {"sent": 2, "cached": 0, "in_file": 4, "pending": 0, "interactive": 0}
    (second,) = again["batches"]
    assert second["id"] != job.id and (second["requests"], second["answers"]) == (2, 2)
    assert [r["output"] for r in again["runs"]] == ["fine now"] * 2


def test_json_lists_cells_that_are_not_batchable(
    fake_server: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeBatchServer() as server:
        Registry().add("bfake", server.base_url, needs_key=False)
        Registry().add("chatfake", fake_server.base_url, needs_key=False)
        proto = _proto(local=True)
        proto.models[1].provider = "chatfake"
        path = _file(tmp_path, proto)
        assert main(["run", str(path), "--batch", "--batch-poll", "0.01", "--json"]) == 0
    data = _report(capsys)
    assert data["cells"]["sent"] == 6 and data["cells"]["interactive"] == 6
    assert len(data["not_batchable"]) == 6
    first = data["not_batchable"][0]
    assert set(first) == {"case", "profile", "model", "sample", "reason"}
    assert first["model"] == "tools" and "tool loop" in first["reason"]
    assert len(data["runs"]) == 12


def test_json_reports_a_failed_batch(
    batch_server: FakeBatchServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch_server.fate = "fail"
    path = _file(tmp_path, _proto())
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01", "--json"]) == 1
    (entry,) = _report(capsys)["batches"]
    assert entry["status"] == "failed" and not entry["collected"] and entry["answers"] == 0


def test_providers_without_a_batch_api_run_interactively(tmp_path: Path) -> None:
    """An Ollama target is not sent to a /files endpoint that does not exist: it is listed as
    not batchable, with the reason, and left to run interactively. (Anthropic targets use its
    Message Batches: tests/engine/test_message_batches.py.)"""
    import asyncio

    from app.engine.batch import BatchRunner
    from app.engine.plan import RunPlan
    from app.providers.hub import ProviderHub

    with FakeBatchServer() as server:
        Registry().add("bfake", server.base_url, needs_key=False)
        proto = _proto()
        proto.models[0].provider = "ollama"
        proto.models[0].model = "llama3"

        async def select():
            hub = ProviderHub()
            try:
                return await BatchRunner(hub).select(proto, RunPlan(use_cache=False))
            finally:
                await hub.aclose()

        selection = asyncio.run(select())
    assert selection.to_send == 0 and len(selection.interactive) == 6
    assert all("Ollama has no batch API" in reason for _, reason in selection.interactive)
