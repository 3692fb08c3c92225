"""`run --batch` / `eval --batch` for Anthropic targets, against a loopback fake of its Message Batches.

Lifecycle, the request body (system moved out, max_tokens, stop_sequences), partial failures
(errored, expired, canceled), cancel, resume after a kill at each point (never creating twice),
several candidates and `--batch-id`, a batch adopted by mistake, and the key going only to its host.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fakeanthropicbatch import FakeAnthropicBatches

from app.cli import main
from app.core.document import load_prototype, parse_prototype, save_prototype
from app.core.message_batches import DEFAULT_MAX_TOKENS
from app.core.prototype import Prototype
from app.engine.batch import BatchRunner
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub
from app.providers.keys import KeyStore
from app.providers.registry import host_of

KEY = "anthropic-batch-test-key-not-secret"
POLL = ["--batch-poll", "0.01"]


def _proto(base_url: str, params: str = "", asserts: bool = False) -> Prototype:
    check = "    assert: [{type: contains, value: Echo}]\n" if asserts else ""
    text = (
        "protostudio: 3\nname: Message batches\nprofiles:\n"
        "  - {id: p1, system_prompt: One.}\n  - {id: p2, system_prompt: Two.}\n"
        f"models:\n  - {{id: a, provider: anthropic, model: claude-x, base_url: '{base_url}'{params}}}\n"
        "cases:\n"
        f"  - id: c1\n    turns: [{{content: first}}]\n{check}"
        f"  - id: c2\n    turns: [{{content: second}}]\n{check}"
        f"  - id: c3\n    turns: [{{content: third}}]\n{check}"
    )
    return parse_prototype(text, "mb.yaml")


@pytest.fixture
def server():
    with FakeAnthropicBatches(api_key=KEY) as fake:
        KeyStore().store("anthropic", host_of(fake.base_url), KEY)
        yield fake


def _file(tmp_path: Path, proto: Prototype) -> Path:
    path = tmp_path / "mb.yaml"
    save_prototype(proto, path)
    return path


def _run(path: Path, *extra: str) -> int:
    return main(["run", str(path), "--batch", *POLL, *extra])


def test_lifecycle_with_the_request_body_an_interactive_run_sends(
    server: FakeAnthropicBatches, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, _proto(server.base_url, ", params: {temperature: 0.5, stop: [END], seed: 3}"))
    assert _run(path) == 0
    proto = load_prototype(path)
    (job,) = proto.batches
    assert server.created == 1 and job.status == "collected" and job.batch_id in server.batches
    assert job.intent is not None and job.intent.requests == 6
    sent = server.batches[job.batch_id].requests
    assert [r["custom_id"] for r in sent] == [c.custom_id for c in job.cells]
    assert sent[0]["params"] == {
        "model": "claude-x",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "system": "One.",
        "messages": [{"role": "user", "content": "first"}],
        "temperature": 0.5,
        "stop_sequences": ["END"],
    }
    assert sorted((r.case, r.profile, r.output) for r in proto.runs) == sorted(
        (c, p, f"Echo: {t}")
        for c, t in (("c1", "first"), ("c2", "second"), ("c3", "third"))
        for p in ("p1", "p2")
    )
    assert all(r.status == "ok" and r.usage.prompt_tokens == 10 for r in proto.runs)
    assert all(seen.version == "2023-06-01" and seen.had_key for seen in server.requests)
    assert "6 answers and 0 errors" in capsys.readouterr().err
    # everything is in the file now: a second --batch sends nothing
    assert _run(path) == 0
    assert server.created == 1 and len(load_prototype(path).runs) == 6


def test_max_tokens_is_the_targets_and_cost_is_the_batch_price(
    server: FakeAnthropicBatches, tmp_path: Path
) -> None:
    from app.providers.pricing import PriceTable

    PriceTable().set_override("anthropic", "claude-x", 1.0, 2.0)
    path = _file(tmp_path, _proto(server.base_url, ", params: {max_tokens: 77}"))
    assert _run(path) == 0
    (job,) = load_prototype(path).batches
    assert {r["params"]["max_tokens"] for r in server.batches[job.batch_id].requests} == {77}
    run = load_prototype(path).runs[0]
    assert run.cost_usd == pytest.approx((10 * 1.0 + 2 * 2.0) / 1_000_000 / 2)


def test_errored_results_become_error_runs(server: FakeAnthropicBatches, tmp_path: Path) -> None:
    server.answer = lambda cid, params: None if "second" in json.dumps(params) else "fine"
    path = _file(tmp_path, _proto(server.base_url))
    assert _run(path) == 1
    runs = load_prototype(path).runs
    assert sorted((r.case, r.status) for r in runs) == sorted(
        [("c1", "ok")] * 2 + [("c2", "error")] * 2 + [("c3", "ok")] * 2
    )
    assert all("scripted failure" in (r.error or "") for r in runs if r.status == "error")


def test_expired_requests_are_not_stored_and_are_sent_again(
    server: FakeAnthropicBatches, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.expire_after = 2
    path = _file(tmp_path, _proto(server.base_url))
    assert _run(path) == 1
    assert len(load_prototype(path).runs) == 2
    assert "4 requests got no answer (batch expired)" in capsys.readouterr().err
    server.expire_after = None
    assert _run(path) == 0
    proto = load_prototype(path)
    assert server.created == 2 and len(proto.batches[1].cells) == 4 and len(proto.runs) == 6


def test_cancel_keeps_what_finished(server: FakeAnthropicBatches, tmp_path: Path) -> None:
    server.hold = True
    proto = _proto(server.base_url)
    path = _file(tmp_path, proto)

    async def scenario() -> None:
        hub = ProviderHub()
        runner = BatchRunner(hub, poll_interval=0.01)
        (job,) = await runner.submit(proto, await runner.select(proto, RunPlan()), "run",
                                     lambda p: save_prototype(p, path))
        states: list[str] = []
        waiting = asyncio.create_task(
            runner.wait(proto, job, lambda p: None, lambda j, s: states.append(s.status))
        )
        while len(states) < 3:
            await asyncio.sleep(0.01)
        cancelling = await runner.cancel(proto, job)
        assert cancelling is not None and cancelling.status == "cancelling"
        final = await asyncio.wait_for(waiting, 10)
        assert final.status == "cancelled"
        collected = await runner.collect(proto, job)
        assert 0 < len(collected.runs) < 6 and collected.unanswered == 6 - len(collected.runs)
        assert all(r.status == "ok" for r in collected.runs)
        await hub.aclose()

    asyncio.run(scenario())


# -- resume after a kill, at each point ----------------------------------------------------------------


def _kill_when(
    path: Path, proto: Prototype, dies: Callable[[Prototype], bool], *, unsaved: bool = False
) -> None:
    """Submit, with a save that dies when `dies(proto)` is true: after writing to disk, or before
    (`unsaved`: what the process knew then never reaches the file)."""

    def save(p: Prototype) -> None:
        if unsaved and dies(p):
            raise SystemExit("killed")
        save_prototype(p, path)
        if dies(p):
            raise SystemExit("killed")

    async def killed() -> None:
        hub = ProviderHub()
        runner = BatchRunner(hub, poll_interval=0.01)
        try:
            await runner.submit(proto, await runner.select(proto, RunPlan()), "run", save)
        finally:
            await hub.aclose()

    with pytest.raises(SystemExit):
        asyncio.run(killed())


def test_killed_before_create_sends_once_on_resume(server: FakeAnthropicBatches, tmp_path: Path) -> None:
    proto = _proto(server.base_url)
    path = _file(tmp_path, proto)
    _kill_when(path, proto, lambda p: p.batches[0].intent is not None)  # intent saved, create never sent
    on_disk = load_prototype(path).batches[0]
    assert on_disk.intent is not None and on_disk.batch_id is None and server.created == 0
    assert _run(path) == 0
    assert server.created == 1 and len(load_prototype(path).runs) == 6


def test_killed_before_the_job_is_even_recorded_with_an_intent(
    server: FakeAnthropicBatches, tmp_path: Path
) -> None:
    proto = _proto(server.base_url)
    path = _file(tmp_path, proto)
    _kill_when(path, proto, lambda p: bool(p.batches))  # the job is on disk, no intent, nothing sent
    assert load_prototype(path).batches[0].intent is None and server.created == 0
    assert _run(path) == 0
    assert server.created == 1 and len(load_prototype(path).runs) == 6


def test_killed_after_create_before_the_id_is_saved_adopts_it(
    server: FakeAnthropicBatches, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add_batch(6).created_at = "2020-01-01T00:00:00Z"  # same size, long before: not a candidate
    server.add_batch(5)  # after the intent, but another size: not a candidate
    proto = _proto(server.base_url)
    path = _file(tmp_path, proto)
    _kill_when(path, proto, lambda p: p.batches[0].batch_id is not None, unsaved=True)  # id never saved
    assert load_prototype(path).batches[0].batch_id is None and server.created == 3
    assert _run(path) == 0
    proto = load_prototype(path)
    assert server.created == 3, "the batch was found by its intent, not created again"
    assert proto.batches[0].batch_id == "msgbatch_0003" and len(proto.runs) == 6


def test_killed_after_the_id_is_saved_polls_the_same_batch(
    server: FakeAnthropicBatches, tmp_path: Path
) -> None:
    server.hold = True
    proto = _proto(server.base_url)
    path = _file(tmp_path, proto)

    async def submit_only() -> None:
        hub = ProviderHub()
        runner = BatchRunner(hub)
        selection = await runner.select(proto, RunPlan())
        await runner.submit(proto, selection, "run", lambda p: save_prototype(p, path))
        await hub.aclose()

    asyncio.run(submit_only())  # then the process dies while waiting
    assert load_prototype(path).batches[0].batch_id is not None
    server.hold = False
    assert _run(path) == 0
    assert server.created == 1 and len(load_prototype(path).runs) == 6
    lists = [s for s in server.requests if s.path.startswith("/v1/messages/batches?")]
    assert not lists, "a recorded id needs no list call"


def test_several_candidates_stop_and_batch_id_adopts_one(
    server: FakeAnthropicBatches, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proto = _proto(server.base_url)
    path = _file(tmp_path, proto)
    _kill_when(path, proto, lambda p: p.batches[0].batch_id is not None, unsaved=True)
    ours = "msgbatch_0001"
    other = server.add_batch(6).id  # someone else's batch of the same size, just after
    assert _run(path) == 1
    err = capsys.readouterr().err
    assert ours in err and other in err and "--batch-id" in err
    assert server.created == 2 and load_prototype(path).batches[0].batch_id is None
    assert _run(path, "--batch-id", other) == 1  # the wrong one is adopted... and refused at collect
    err = capsys.readouterr().err
    assert "adopted by mistake" in err and not load_prototype(path).runs
    assert _run(path, "--batch-id", ours) == 0
    proto = load_prototype(path)
    assert server.created == 2 and proto.batches[0].batch_id == ours and len(proto.runs) == 6


def test_batch_id_of_another_size_is_not_adopted(server: FakeAnthropicBatches, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    proto = _proto(server.base_url)
    path = _file(tmp_path, proto)
    _kill_when(path, proto, lambda p: p.batches[0].intent is not None)
    other = server.add_batch(4).id
    assert _run(path, "--batch-id", other) == 1
    assert "has 4 requests" in capsys.readouterr().err
    assert load_prototype(path).batches[0].batch_id is None


def test_a_lone_stranger_batch_is_never_stored_as_ours(
    server: FakeAnthropicBatches, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Killed before create; meanwhile another client made a batch of the same size: adopting it
    looked right, but its results name other custom_ids, so nothing is stored."""
    proto = _proto(server.base_url)
    path = _file(tmp_path, proto)
    _kill_when(path, proto, lambda p: p.batches[0].intent is not None)
    server.add_batch(6)
    assert _run(path) == 1
    assert "adopted by mistake" in capsys.readouterr().err
    assert not load_prototype(path).runs


# -- keys ----------------------------------------------------------------------------------------------


def test_results_on_another_host_are_refused_without_the_key(
    server: FakeAnthropicBatches, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeAnthropicBatches() as elsewhere:
        server.results_base = elsewhere.origin
        path = _file(tmp_path, _proto(server.base_url))
        assert _run(path) == 1
        assert "the key is not sent there" in capsys.readouterr().err
        assert elsewhere.requests == [] and not load_prototype(path).runs


def test_the_providers_own_key_is_not_sent_to_a_foreign_base_url(
    server: FakeAnthropicBatches, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeAnthropicBatches() as foreign:
        KeyStore().forget("anthropic", host_of(server.base_url))
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)  # the key for api.anthropic.com only
        path = _file(tmp_path, _proto(foreign.base_url))
        assert _run(path) == 1
        assert "not sent there unless you confirm" in capsys.readouterr().err
        assert foreign.requests == []


# -- what runs interactively, and --json ---------------------------------------------------------------


def test_response_format_runs_interactively(server: FakeAnthropicBatches) -> None:
    proto = _proto(server.base_url, ", params: {response_format: {type: json_object}}")

    async def select():
        hub = ProviderHub()
        try:
            return await BatchRunner(hub).select(proto, RunPlan(use_cache=False))
        finally:
            await hub.aclose()

    selection = asyncio.run(select())
    assert selection.to_send == 0 and len(selection.interactive) == 6
    assert all("response_format" in reason for _, reason in selection.interactive)


def test_json_report_and_eval(server: FakeAnthropicBatches, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, _proto(server.base_url, asserts=True))
    assert main(["eval", str(path), "--batch", *POLL]) == 0
    proto = load_prototype(path)
    assert proto.batches[0].kind == "eval" and proto.evals[-1].pass_rate == 1.0
    capsys.readouterr()
    fresh = tmp_path / "again"
    fresh.mkdir()
    path = _file(fresh, _proto(server.base_url))
    server.answer = lambda cid, params: None if "third" in json.dumps(params) else "ok"
    assert main(["run", str(path), "--batch", *POLL, "--json", "--no-cache"]) == 1
    report = json.loads(capsys.readouterr().out)
    (entry,) = report["batches"]
    assert entry["batch_id"].startswith("msgbatch_") and entry["status"] == "completed" and entry["collected"]
    assert (entry["requests"], entry["answers"], entry["errors"], entry["unanswered"]) == (6, 4, 2, 0)
    assert report["cells"]["sent"] == 6 and len(report["runs"]) == 6


def test_a_batch_the_file_already_records_is_never_adopted_by_another_job(
    server: FakeAnthropicBatches, tmp_path: Path
) -> None:
    """Two targets, two batches of the same size made in the same second: the second job, killed
    before its id was saved, adopts its own batch, not the first job's."""
    proto = _proto(server.base_url)
    twin = proto.models[0].model_copy(update={"id": "a2", "model": "claude-y"})
    proto.models.append(twin)
    path = _file(tmp_path, proto)
    _kill_when(path, proto, lambda p: len(p.batches) == 2 and p.batches[1].batch_id is not None, unsaved=True)
    first, second = load_prototype(path).batches
    assert first.batch_id == "msgbatch_0001" and second.batch_id is None and server.created == 2
    assert _run(path) == 0
    proto = load_prototype(path)
    assert server.created == 2 and [j.batch_id for j in proto.batches] == ["msgbatch_0001", "msgbatch_0002"]
    assert sorted({r.model_name for r in proto.runs}) == ["claude-x", "claude-y"] and len(proto.runs) == 12


def test_a_rejected_key_is_reported_without_the_key(
    server: FakeAnthropicBatches, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "wrong-test-key-0123456789-not-secret"  # not key-shaped: redaction is by value
    KeyStore().store("anthropic", host_of(server.base_url), wrong)
    path = _file(tmp_path, _proto(server.base_url))
    assert main(["run", str(path), "--batch", *POLL, "--json"]) == 1
    out, err = capsys.readouterr()
    assert "rejected the key" in err and json.loads(out)["status"] == "error"
    assert wrong not in out + err + path.read_text(encoding="utf-8")
    assert server.created == 0
