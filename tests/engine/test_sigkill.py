"""A finished cell survives SIGKILL: 200 kills of `protostudio run`, 0 finished cells lost.

`tests/killharness.py` forks `protostudio run` with its progress bar on a pty, kills it at a
random moment, then opens the file the way the next run does. The control deletes the journal
before that, and must see losses: it proves the harness would notice one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fork, pty and SIGKILL")


def _harness(server: FakeOpenAI, work: Path, *extra: str) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "killharness.py"), "--server", server.base_url,
         "--workdir", str(work), "--cases", "20", *extra],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def steady_server(fake_server: FakeOpenAI) -> FakeOpenAI:
    fake_server.default = Reply(text="one two three four five six", ttft=0.02, tokens_per_s=200)
    return fake_server


@pytest.mark.timeout(900)
def test_no_finished_cell_is_lost_in_200_sigkills(steady_server: FakeOpenAI, tmp_path: Path) -> None:
    result = _harness(steady_server, tmp_path, "--trials", "200", "--seed", "1",
                      "--kill-after", "0.05", "0.95")
    assert result["killed"] >= 150, result  # most trials really were killed mid-run
    assert result["acknowledged"] >= 300, result  # and many cells had finished before the kills
    assert result["lost"] == 0, result


@pytest.mark.timeout(600)
def test_control_the_harness_sees_a_loss_without_the_journal(steady_server: FakeOpenAI,
                                                             tmp_path: Path) -> None:
    # kills mid-run, after some cells have finished since the last debounced save
    result = _harness(steady_server, tmp_path, "--trials", "20", "--seed", "2", "--lose-journal",
                      "--kill-after", "0.3", "0.95")
    assert result["lost"] > 0 and result["trials_with_loss"] >= 2, result
