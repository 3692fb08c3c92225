"""The example's case with no fixed turn (`three-bullets-scripted-opening`: its script writes the
first message) through `run`, `status`, `eval`, `report` and the exports, on the scriptable server;
and a file with neither turns nor a simulated user refused at its position."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.document import load_prototype, save_prototype
from app.core.prototype import ModelTarget
from app.core.threads import cell_states

ROOT = Path(__file__).resolve().parents[2]
CASE = "three-bullets-scripted-opening"
PROFILE = "strict-format"


def protostudio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], check=False, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "240"})


def three_bullets(rec: Recorded) -> Reply:
    turn = sum(m["role"] == "user" for m in rec.messages)
    return Reply(text=f"- one ({turn})\n- two\n- three")


def example(tmp_path: Path, fake_provider: str) -> Path:
    proto = load_prototype(ROOT / "prototypes" / "instruction-following.yaml")
    proto.cases = [c for c in proto.cases if c.id == CASE]  # the others would start the bundled model
    proto.models.append(ModelTarget(id="fake", provider=fake_provider, model="fm"))
    path = tmp_path / "if.yaml"
    save_prototype(proto, path)
    return path


def run_case(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return protostudio("run", str(path), "--case", CASE, "--model", "fake", "--profile", PROFILE, *extra)


def test_run_sends_the_script_first_and_stores_how_it_ended(
    tmp_path: Path, fake_server: FakeOpenAI, fake_provider: str
) -> None:
    path = example(tmp_path, fake_provider)
    fake_server.responder = three_bullets
    done = run_case(path, "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert [r["user_turn"] for r in payload["runs"]] == ["scripted", "scripted"]
    assert [r["messages"][-1]["content"] for r in payload["runs"]] == [
        "Give me exactly three bullet points on preparing a design review.", "Now three on running it."]
    end = {"by": "script_end", "reason": "2 scripted messages sent"}
    assert payload["runs"][-1]["conversation_end"] == end
    (conv,) = payload["conversations"]
    assert (conv["user_turns"], conv["end"]["by"], conv["failed"]) == (2, "script_end", False)
    assert payload["simulator"] == {"calls": 0, "tokens": 0, "cost_usd": None, "cost_unknown": 0}
    first = fake_server.chat_requests()[0]
    assert [m["role"] for m in first.messages] == ["system", "user"]

    proto = load_prototype(path)
    (state,) = cell_states(proto).values()
    assert not state.stale and [r.user_turn for r in state.thread] == ["scripted", "scripted"]
    assert state.thread[-1].conversation_end is not None
    assert state.thread[-1].conversation_end.by == "script_end"

    table = run_case(path)
    rows = table.stdout.splitlines()[1:]
    assert [row.split()[:2] for row in rows] == [[CASE, f"{PROFILE}/fake"], [CASE, "+1"]]
    assert "[scripted] Give me exactly three" in rows[0]

    status = protostudio("status", str(path), "--json")
    assert status.returncode == 0, status.stderr
    (cell,) = [c for c in json.loads(status.stdout)["cells"] if c["run"] is not None]
    assert cell["conversation_end"]["by"] == "script_end" and cell["user_turns"] == 2
    text = protostudio("status", str(path))
    assert "[script finished: 2 scripted messages sent]" in text.stdout


def test_eval_prints_the_turns_and_lists_conversations(
    tmp_path: Path, fake_server: FakeOpenAI, fake_provider: str
) -> None:
    path = example(tmp_path, fake_provider)
    fake_server.responder = three_bullets
    out = tmp_path / "eval.json"
    done = protostudio("eval", str(path), "--model", "fake", "--profile", PROFILE, "--baseline",
                       "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "conversations:" in done.stdout
    assert "[scripted] Give me exactly three bullet points" in done.stdout
    assert "[scripted] Now three on running it." in done.stdout
    assert "ended: script finished" in done.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    (conv,) = data["conversations"]
    assert [t["user"] for t in conv["turns"]] == [
        "Give me exactly three bullet points on preparing a design review.", "Now three on running it."]
    assert conv["end"]["by"] == "script_end"
    results = data["eval"]["results"]
    assert [r["baseline"] for r in results] == [False]  # no fixed turn: no baseline to send
    assert results[0]["passed"]
    # every request had a user message: nothing was sent with only a system prompt
    assert all(any(m["role"] == "user" for m in r.messages) for r in fake_server.chat_requests())


def test_exports_and_report_do_not_crash(tmp_path: Path, fake_server: FakeOpenAI, fake_provider: str) -> None:
    path = example(tmp_path, fake_provider)
    fake_server.responder = three_bullets
    assert run_case(path).returncode == 0
    for fmt in ("promptfoo", "openai-evals", "dpo"):
        out = tmp_path / f"out-{fmt}"
        done = protostudio("export", str(path), "--to", fmt, "--out", str(out))
        assert "Traceback" not in done.stderr, (fmt, done.stderr)
        if fmt == "openai-evals":  # its only case left out: nothing to export, said plainly
            assert done.returncode == 2 and "no assertion maps" in done.stderr, done.stderr
        else:
            assert done.returncode == 0, (fmt, done.stderr)
        if fmt == "promptfoo":  # promptfoo's own simulated user writes the first message there too
            config = yaml.safe_load((out / "promptfooconfig.yaml").read_text(encoding="utf-8"))
            test = next(t for t in config["tests"] if t["metadata"]["case"] == CASE)
            assert test["provider"]["id"] == "promptfoo:simulated-user", test
            assert "initialMessages" not in test["vars"], test
    report = protostudio("report", str(path))
    assert "Traceback" not in report.stderr, report.stderr


def test_a_case_with_neither_turns_nor_simulated_user_is_refused_where_it_is(tmp_path: Path) -> None:
    source = (ROOT / "prototypes" / "instruction-following.yaml").read_text(encoding="utf-8")
    lines = source.splitlines()
    start = lines.index(f"  - id: {CASE}")
    bad = tmp_path / "bad.yaml"
    bad.write_text("\n".join(lines[: start + 6]) + "\n", encoding="utf-8")  # cut before simulated_user
    done = protostudio("validate", str(bad))
    assert done.returncode == 2
    (line,) = [row for row in done.stdout.splitlines() + done.stderr.splitlines() if "no turns" in row]
    assert line.startswith(f"{bad}:{start + 1}:"), line
    assert f"case '{CASE}' has no turns and no simulated_user" in line
