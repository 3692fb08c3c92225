"""`protostudio run` and `eval` on the example's scripted conversation (CI: no simulator model),
and `--batch` running a simulated case interactively, saying why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.document import load_prototype, save_prototype
from app.core.prototype import ModelTarget
from app.core.threads import cell_states, conversation

ROOT = Path(__file__).resolve().parents[2]
CASE = "release-note-scripted"


def protostudio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], check=False, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=os.environ.copy())


def canvas_then_chat(rec: Recorded) -> Reply:
    turn = sum(m["role"] == "user" for m in rec.messages)
    if turn == 3:
        return Reply(text="The tone fits a changelog: short and concrete.")
    return Reply(text=f"[canvas: Dark mode]\nDark mode is here (draft {turn}). Press Ctrl+Shift+D.")


def example(tmp_path: Path, fake_provider: str, *, only_case: bool = False) -> Path:
    proto = load_prototype(ROOT / "prototypes" / "canvas-trigger.yaml")
    if only_case:  # the other cases would start the bundled model (its simulator, its judge)
        proto.cases = [c for c in proto.cases if c.id == CASE]
    proto.models.append(ModelTarget(id="fake", provider=fake_provider, model="fm"))
    path = tmp_path / "canvas.yaml"
    save_prototype(proto, path)
    return path


def test_run_prints_and_saves_the_scripted_turns(
    tmp_path: Path, fake_server: FakeOpenAI, fake_provider: str
) -> None:
    path = example(tmp_path, fake_provider)
    fake_server.responder = canvas_then_chat
    done = protostudio("run", str(path), "--case", CASE, "--model", "fake",
                       "--profile", "canvas-for-documents")
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[1:]
    assert [row.split()[:2] for row in rows] == [[CASE, "canvas-for-documents/fake"],
                                               [CASE, "+1"], [CASE, "+2"]]
    assert "[scripted] Shorter please" in rows[1]
    assert "script finished" in done.stderr
    assert len(fake_server.chat_requests()) == 3  # three replies, no simulator call
    proto = load_prototype(path)
    (state,) = cell_states(proto).values()
    assert [r.user_turn for r in state.thread] == [None, "scripted", "scripted"]
    assert conversation(state.thread[0], proto.runs) == state.thread

    again = protostudio("run", str(path), "--case", CASE, "--model", "fake", "--profile",
                        "canvas-for-documents", "--json")
    assert again.returncode == 0, again.stderr
    payload = json.loads(again.stdout)
    assert [r["user_turn"] for r in payload["runs"]] == [None, "scripted", "scripted"]
    assert all(r["cached"] for r in payload["runs"])  # same turns, same requests: the cache answers
    assert payload["conversations"] == [{"case": CASE, "profile": "canvas-for-documents", "model": "fake",
                                         "sample": 0, "user_turns": 2, "reason": "script finished",
                                         "failed": False,
                                         "end": {"by": "script_end", "reason": "2 scripted messages sent"}}]
    assert len(load_prototype(path).runs) == 3  # a cache hit repeating a stored answer adds nothing


def test_eval_grades_every_turn(tmp_path: Path, fake_server: FakeOpenAI, fake_provider: str) -> None:
    path = example(tmp_path, fake_provider, only_case=True)
    fake_server.responder = canvas_then_chat
    done = protostudio("eval", str(path), "--model", "fake", "--profile", "canvas-for-documents")
    assert done.returncode == 0, done.stdout + done.stderr
    proto = load_prototype(path)
    result = next(r for r in proto.evals[-1].results if r.case == CASE)
    assert result.passed, result.assertions
    assert [a.passed for a in result.assertions[-2:]] == [True, True]


def test_batch_runs_simulated_cases_interactively(
    tmp_path: Path, fake_server: FakeOpenAI, fake_provider: str
) -> None:
    path = example(tmp_path, fake_provider)
    fake_server.responder = canvas_then_chat
    done = protostudio("run", str(path), "--case", CASE, "--model", "fake", "--profile",
                       "canvas-for-documents", "--batch")
    assert "interactively: a simulated user writes each next turn" in done.stderr, done.stderr
    assert len([r for r in load_prototype(path).runs if r.user_turn == "scripted"]) == 2
