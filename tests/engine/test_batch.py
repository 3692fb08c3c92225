"""`run --batch` / `eval --batch` against a loopback fake of /v1/files and /v1/batches.

Lifecycle (submit, poll, collect), partial failures, expiry, cancel, resume after a kill (never
submitting twice), cache and file reuse, and cells that must run interactively.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fakebatch import FakeBatchServer
from fakeserver import FakeOpenAI

from app.cli import main
from app.core.document import load_prototype, parse_prototype, save_prototype
from app.core.prototype import Prototype
from app.engine.batch import BatchRunner
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub
from app.providers.registry import Registry

KEY = "batch-test-key-not-secret"


def _proto(local: bool = False, asserts: bool = False) -> Prototype:
    models = "  - {id: b, provider: bfake, model: batch-model}\n"
    if local:
        tools = "{tools: [{type: function, function: {name: f}}]}"
        models += f"  - {{id: tools, provider: bfake, model: tool-model, params: {tools}}}\n"
    check = "    assert: [{type: contains, value: Echo}]\n" if asserts else ""
    text = (
        "protostudio: 1\nname: Batch\nprofiles:\n"
        "  - {id: p1, system_prompt: One.}\n  - {id: p2, system_prompt: Two.}\n"
        f"models:\n{models}cases:\n"
        f"  - id: c1\n    turns: [{{content: first}}]\n{check}"
        f"  - id: c2\n    turns: [{{content: second}}]\n{check}"
        f"  - id: c3\n    turns: [{{content: third}}]\n{check}"
    )
    return parse_prototype(text, "batch.yaml")


@pytest.fixture
def batch_server(monkeypatch: pytest.MonkeyPatch):
    with FakeBatchServer(api_key=KEY) as server:
        Registry().add("bfake", server.base_url, key_env="BFAKE_KEY")
        monkeypatch.setenv("BFAKE_KEY", KEY)
        yield server


def _file(tmp_path: Path, proto: Prototype) -> Path:
    path = tmp_path / "batch.yaml"
    save_prototype(proto, path)
    return path


def test_submit_poll_collect(
    batch_server: FakeBatchServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, _proto())
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 0
    proto = load_prototype(path)
    assert batch_server.created == 1
    (job,) = proto.batches
    assert job.status == "collected" and job.batch_id and len(job.cells) == 6
    lines = batch_server.input_lines(job.batch_id)
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    assert lines[0]["body"] == {
        "model": "batch-model",
        "messages": [{"role": "system", "content": "One."}, {"role": "user", "content": "first"}],
    }
    assert sorted((r.case, r.profile, r.output) for r in proto.runs) == sorted(
        (c, p, f"Echo: {t}")
        for c, t in (("c1", "first"), ("c2", "second"), ("c3", "third"))
        for p in ("p1", "p2")
    )
    assert all(r.status == "ok" and r.usage.prompt_tokens == 10 for r in proto.runs)
    err = capsys.readouterr().err
    assert "6 cells to send" in err and "in_progress" in err and "6 answers and 0 errors" in err
    assert batch_server.requests.count(("POST", "/v1/files")) == 1

    # everything is now in the file: a second --batch sends nothing
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 0
    assert batch_server.created == 1 and len(load_prototype(path).runs) == 6
    assert "0 cells to send" in capsys.readouterr().err


def test_answers_go_to_the_cache_an_interactive_run_reads(
    batch_server: FakeBatchServer, tmp_path: Path
) -> None:
    path = _file(tmp_path, _proto())
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 0
    (tmp_path / "copy").mkdir()
    fresh = _file(tmp_path / "copy", _proto())
    # the interactive path would need the chat endpoint, which the fake lacks: a cache hit never calls it
    assert main(["run", str(fresh)]) == 0
    runs = load_prototype(fresh).runs
    assert len(runs) == 6 and all(r.cached and r.output.startswith("Echo: ") for r in runs)


def test_partial_failures_become_error_runs(batch_server: FakeBatchServer, tmp_path: Path) -> None:
    batch_server.answer = lambda cid, body: None if "second" in json.dumps(body) else "fine"
    path = _file(tmp_path, _proto())
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 1
    runs = load_prototype(path).runs
    assert sorted((r.case, r.status) for r in runs) == sorted(
        [("c1", "ok")] * 2 + [("c2", "error")] * 2 + [("c3", "ok")] * 2
    )
    assert all("scripted failure" in (r.error or "") for r in runs if r.status == "error")


def test_expired_batch_keeps_what_finished_and_resends_the_rest(
    batch_server: FakeBatchServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch_server.fate, batch_server.partial = "expire", 2
    path = _file(tmp_path, _proto())
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 1
    assert len(load_prototype(path).runs) == 2
    assert "4 requests got no answer (batch expired)" in capsys.readouterr().err
    batch_server.fate = "complete"
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 0
    proto = load_prototype(path)
    assert batch_server.created == 2 and len(proto.batches[1].cells) == 4 and len(proto.runs) == 6


def test_a_failed_batch_says_why(
    batch_server: FakeBatchServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch_server.fate = "fail"
    path = _file(tmp_path, _proto())
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 1
    assert "scripted validation failure" in capsys.readouterr().err
    assert load_prototype(path).batches[0].status == "failed"


def test_cancel_collects_what_finished(batch_server: FakeBatchServer, tmp_path: Path) -> None:
    batch_server.hold = True
    proto = _proto()
    path = _file(tmp_path, proto)

    async def scenario() -> None:
        hub = ProviderHub()
        runner = BatchRunner(hub, poll_interval=0.01)
        selection = await runner.select(proto, RunPlan())
        (job,) = await runner.submit(proto, selection, "run", lambda p: save_prototype(p, path))
        states: list[str] = []
        waiting = asyncio.create_task(
            runner.wait(proto, job, lambda p: None, lambda j, s: states.append(s.status))
        )
        while len(states) < 3:
            await asyncio.sleep(0.01)
        await runner.cancel(proto, job)
        final = await asyncio.wait_for(waiting, 10)
        assert final.status == "cancelled"
        collected = await runner.collect(proto, job)
        assert 0 < len(collected.runs) < 6 and collected.unanswered == 6 - len(collected.runs)
        await hub.aclose()

    asyncio.run(scenario())


def test_resume_after_kill_never_submits_twice(batch_server: FakeBatchServer, tmp_path: Path) -> None:
    """Killed after the batch was created but before its id was saved: found by its job tag, not re-sent."""
    proto = _proto()
    path = _file(tmp_path, proto)
    batch_server.hold = True
    saves: list[str] = []

    def save_until_created(p: Prototype) -> None:
        if p.batches and p.batches[0].batch_id is not None:
            raise SystemExit("killed")  # the process dies before the batch id reaches the disk
        save_prototype(p, path)
        saves.append(p.batches[0].status if p.batches else "")

    async def killed() -> None:
        hub = ProviderHub()
        runner = BatchRunner(hub, poll_interval=0.01)
        try:
            await runner.submit(proto, await runner.select(proto, RunPlan()), "run", save_until_created)
        finally:
            await hub.aclose()

    with pytest.raises(SystemExit):
        asyncio.run(killed())
    on_disk = load_prototype(path)
    assert on_disk.batches[0].batch_id is None and on_disk.batches[0].input_file_id
    assert batch_server.created == 1
    batch_server.hold = False
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 0
    assert batch_server.created == 1, "the batch was found by its job tag, not created again"
    assert len(load_prototype(path).runs) == 6
    # and killed while waiting: the next call resumes polling the same batch
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 0
    assert batch_server.created == 1


def test_unbatchable_cells_run_interactively(
    fake_server: FakeOpenAI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A target with tools needs a tool loop: it runs through the engine, and the output says so."""
    with FakeBatchServer() as server:
        Registry().add("bfake", server.base_url, needs_key=False)
        proto = _proto(local=True)
        proto.models[1].provider = "chatfake"
        Registry().add("chatfake", fake_server.base_url, needs_key=False)
        path = _file(tmp_path, proto)
        assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 0
        err = capsys.readouterr().err
        assert "6 cells to send" in err and "6 to run interactively" in err
        assert "a target with tools needs a tool loop" in err
        runs = load_prototype(path).runs
        assert len(runs) == 12 and {r.model for r in runs} == {"b", "tools"}
        assert len(fake_server.chat_requests()) == 6


def test_eval_batch_grades_the_batch_answers(batch_server: FakeBatchServer, tmp_path: Path) -> None:
    path = _file(tmp_path, _proto(asserts=True))
    assert main(["eval", str(path), "--batch", "--batch-poll", "0.01"]) == 0
    proto = load_prototype(path)
    assert proto.batches[0].kind == "eval" and len(proto.runs) == 6
    assert proto.evals[-1].pass_rate == 1.0
    assert {r.run for r in proto.evals[-1].results} == {r.id for r in proto.runs}


def test_cost_is_the_batch_price(batch_server: FakeBatchServer, tmp_path: Path) -> None:
    from app.providers.pricing import PriceTable

    PriceTable().set_override("bfake", "batch-model", 1.0, 2.0)
    path = _file(tmp_path, _proto())
    assert main(["run", str(path), "--batch", "--batch-poll", "0.01"]) == 0
    run = load_prototype(path).runs[0]
    full = (10 * 1.0 + 2 * 2.0) / 1_000_000
    assert run.cost_usd == pytest.approx(full / 2)
