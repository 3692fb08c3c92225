"""How a simulated conversation ended survives a SIGKILL right after it ended.

`protostudio run` saves the file debounced; the runs of a conversation are journaled as they end,
and so is its end (`Run.conversation_end`). The child is killed the moment it says on stderr that
the conversation ended (while another cell still hangs, so the run is far from its final save);
the file, opened the way the next run opens it, must say why the conversation stopped. The control
deletes the journal first and must lose it: the kill really came before a save held it.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.journal import journal_path, load_recovering
from app.core.prototype import Prototype

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def _prototype(server: str) -> str:
    return f"""name: kill after a conversation
profiles:
  - id: p
models:
  - id: fake
    provider: ollama
    model: fake-model
    base_url: {server}
cases:
  - id: hangs
    turns:
      - content: please hang
  - id: talk
    turns:
      - content: hello
    simulated_user:
      max_turns: 2
      script:
        - shorter please
        - thanks
"""


def _responder(rec: Recorded) -> Reply:
    if rec.messages[-1]["content"] == "please hang":
        return Reply(fault="hang")
    return Reply(text="an answer")


def _run_and_kill(path: Path) -> tuple[bool, str]:
    """Run `protostudio run` and SIGKILL it once it reports the conversation's end.

    Returns (killed by us, what it wrote on stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "app.cli", "run", str(path), "--no-cache"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while b"simulated conversation ended" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([child.stderr], [], [], 0.5)
            if ready:
                chunk = os.read(child.stderr.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
        killed = child.poll() is None and b"simulated conversation ended" in seen
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stderr.close()
    return killed, seen.decode("utf-8", "replace")


def _end_of_talk(proto: Prototype) -> tuple[int, str | None]:
    runs = [r for r in proto.runs if r.case == "talk"]
    ends = [r.conversation_end.by for r in runs if r.conversation_end is not None]
    return len(runs), (ends[-1] if ends else None)


@pytest.fixture
def prototype_file(fake_server: FakeOpenAI, tmp_path: Path) -> Path:
    fake_server.responder = _responder
    path = tmp_path / "talk.yaml"
    path.write_text(_prototype(fake_server.base_url), encoding="utf-8")
    return path


@pytest.mark.timeout(120)
def test_the_end_of_a_conversation_survives_a_sigkill(prototype_file: Path) -> None:
    killed, stderr = _run_and_kill(prototype_file)
    assert killed, stderr
    proto, _ = load_recovering(prototype_file)
    assert _end_of_talk(proto) == (3, "script_end")


@pytest.mark.timeout(120)
def test_control_without_the_journal_the_end_is_lost(prototype_file: Path) -> None:
    killed, stderr = _run_and_kill(prototype_file)
    assert killed, stderr
    journal_path(prototype_file).unlink()
    proto, _ = load_recovering(prototype_file)
    assert _end_of_talk(proto)[1] is None  # the kill came before any save that held the end
