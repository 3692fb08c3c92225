"""A SIGKILL during `eval` loses none of its finished answers: each is journaled as its cell ends.

Before, `eval` kept its answers in memory until grading was done, so a kill while one cell still
hung lost every finished one. The colors cells hang here; the fruits cells finish, the process is
killed, and the next open folds the fruits answers in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from evals_kit import ROOT, answer_by_profile
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.document import load_prototype
from app.core.journal import journal_path, load_recovering, read_journal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def _colors_hang(rec: Recorded) -> Reply | None:
    question = rec.messages[-1]["content"] if rec.messages else ""
    return Reply(fault="hang") if "colors" in question else answer_by_profile(rec)


def _wait_for(condition: object, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_killed_eval_keeps_its_finished_answers(proto_file: Path, scripted: FakeOpenAI) -> None:
    scripted.responder = _colors_hang
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "eval", str(proto_file), "--model", "fake", "--no-cache"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # both profiles' fruits answers are in the journal while the colors cells still hang
        _wait_for(lambda: len(read_journal(proto_file).runs) >= 2, "two journaled answers")
        assert child.poll() is None, "eval ended although two cells hang"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert load_prototype(proto_file).runs == []  # the kill came before eval's own save
    proto, recovered = load_recovering(proto_file)
    assert recovered == 2
    assert sorted((r.case, r.profile, r.status) for r in proto.runs) == [
        ("fruits", "bullets", "ok"), ("fruits", "plain", "ok")]
    assert not journal_path(proto_file).exists()
    assert load_prototype(proto_file).runs == proto.runs  # saved into the file


def test_a_finished_eval_leaves_no_journal(proto_file: Path, scripted: FakeOpenAI) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "eval", str(proto_file), "--model", "fake"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    assert not journal_path(proto_file).exists()
    assert len(load_prototype(proto_file).runs) == 4
