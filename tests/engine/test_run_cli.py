"""`protostudio run` as a user runs it (a subprocess): on the fake server, and offline on the local model."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_kit import make_proto
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.document import load_prototype, save_prototype

ROOT = Path(__file__).resolve().parents[2]


def protostudio(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "app.cli", *args]
    return subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=os.environ.copy())


@pytest.fixture
def proto_file(tmp_path: Path, fake_provider: str) -> Path:
    path = tmp_path / "proto.yaml"
    save_prototype(make_proto(profiles=2, models=[("a", "fake", "ma"), ("b", "fake", "mb")], cases=2), path)
    return path


def test_run_saves_results_and_prints_a_table(proto_file: Path, fake_server: FakeOpenAI) -> None:
    fake_server.default = Reply(text="Purr.\nSecond line is not shown.")
    done = protostudio("run", str(proto_file), "--model", "a", "--case", "c1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["case", "variant", "output", "tokens", "latency", "cost"]
    assert [line.split()[:3] for line in lines[1:]] == [["c1", "p0/a", "Purr."], ["c1", "p1/a", "Purr."]]
    assert all(line.split()[-1] == "?" for line in lines[1:]), "unknown cost must show as ?"
    assert "Second line" not in done.stdout
    assert "2/2 cells" in done.stderr
    runs = load_prototype(proto_file).runs
    assert sorted((r.case, r.profile, r.model, r.status) for r in runs) == [
        ("c1", "p0", "a", "ok"), ("c1", "p1", "a", "ok")]


def test_json_output_and_repeat(proto_file: Path, fake_server: FakeOpenAI) -> None:
    done = protostudio("run", str(proto_file), "--profile", "p1", "--repeat", "2", "--no-cache", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["cells"] == result["done"] == 8 and result["failed"] == 0 and not result["interrupted"]
    assert [(r["case"], r["sample"], r["model"]) for r in result["runs"]] == [
        (c, s, m) for c in ("c0", "c1") for s in (0, 1) for m in ("a", "b")]
    assert result["runs"][0]["output"] == "Echo: case c0"
    assert len(load_prototype(proto_file).runs) == 8


def test_failed_cells_exit_1_and_show_the_error(proto_file: Path, fake_server: FakeOpenAI) -> None:
    fake_server.responder = lambda rec: Reply(status=401) if (rec.body or {}).get("model") == "mb" else None
    done = protostudio("run", str(proto_file), "--case", "c0", "--profile", "p0")
    assert done.returncode == 1
    assert "ERROR:" in done.stdout and "Echo: case c0" in done.stdout
    assert {r.status for r in load_prototype(proto_file).runs} == {"ok", "error"}


def test_unknown_ids_exit_2_listing_the_known_ones(proto_file: Path) -> None:
    before = proto_file.read_bytes()
    done = protostudio("run", str(proto_file), "--model", "gpt-9")
    assert done.returncode == 2
    assert "unknown model 'gpt-9' (known: a, b)" in done.stderr
    assert proto_file.read_bytes() == before


def test_a_malformed_file_exits_2_with_file_line_col(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nprofiles:\n  - id: a\n    sytem_prompt: hi\n", encoding="utf-8")
    done = protostudio("run", str(path))
    assert done.returncode == 2
    assert f"{path}:4:5: unknown key 'sytem_prompt'" in done.stderr


def test_bad_numbers_are_usage_errors(proto_file: Path) -> None:
    done = protostudio("run", str(proto_file), "--repeat", "0")
    assert done.returncode == 2 and "must be at least 1" in done.stderr


def test_ctrl_c_keeps_every_finished_cell(proto_file: Path, fake_server: FakeOpenAI) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=5)
    save_prototype(proto, proto_file)

    def responder(rec: Recorded) -> Reply:
        quick = any(m["content"] in ("case c0", "case c1") for m in rec.messages)
        return Reply(text="done") if quick else Reply(text=" ".join(["slow"] * 200), tokens_per_s=10)

    fake_server.responder = responder
    cmd = [sys.executable, "-m", "app.cli", "run", str(proto_file), "--concurrency", "1", "--no-cache"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        # the two quick cells sent one word each; wait until the slow cell has streamed a few words
        while fake_server.tokens_sent < 2 + 6 and time.monotonic() < deadline:
            time.sleep(0.02)  # polling a condition, with a deadline
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    runs = load_prototype(proto_file).runs
    assert [(r.case, r.status) for r in runs] == [("c0", "ok"), ("c1", "ok"), ("c2", "cancelled")]
    assert runs[2].output.startswith("slow slow")
    assert len(fake_server.chat_requests()) == 3
    assert "(cancelled) slow" in out


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_cat_persona_runs_offline_on_the_bundled_model(tmp_path: Path) -> None:
    """The shipped example as a new user runs it: 4 profiles, one case, the bundled model, no network."""
    path = tmp_path / "cat-persona.yaml"
    shutil.copy(ROOT / "prototypes" / "cat-persona.yaml", path)
    case = load_prototype(path).cases[0].id
    done = protostudio("run", str(path), "--model", "local", "--case", case, "--json", timeout=880)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    profiles = [p.id for p in load_prototype(path).profiles]
    assert [r["profile"] for r in result["runs"]] == profiles
    assert all(r["status"] == "ok" and r["output"].strip() for r in result["runs"])
    assert all(r["provider"] == "local" for r in result["runs"])
    saved = load_prototype(path).runs
    assert len(saved) == len(profiles) and all(r.model == "local" and r.case == case for r in saved)


def test_a_run_that_would_cross_the_runs_limit_is_not_saved(
        proto_file: Path, fake_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """In-process, so the limit can be made small. Two cells end; a save with both is refused and the
    command says why (exit 2). The file on disk is whatever was saved last within the limit (the
    first cell alone, when a debounced save caught it): it always opens again."""
    from app import cli
    from app.core import limits

    monkeypatch.setitem(limits.MAX_ITEMS, "runs", 1)
    assert cli.main(["run", str(proto_file), "--model", "a", "--case", "c1"]) == 2
    err = capsys.readouterr().err
    assert "cannot save" in err and "`runs:` has more than 1 items" in err and "the file is unchanged" in err
    assert len(load_prototype(proto_file).runs) <= 1
