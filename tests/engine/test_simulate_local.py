"""The bundled model as the simulated user: its turns always parse (JSON-schema decoding), so a
conversation ends on `done` or `max_turns`, never on an unreadable reply."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.document import load_prototype

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

PROTOTYPE = """\
protostudio: 3
name: Simulator check
profiles:
  - id: terse
    system_prompt: Answer in one short sentence.
models:
  - id: local
    provider: local
    model: smollm2-135m-instruct
    params: {temperature: 0, seed: 3, max_tokens: 40}
cases:
  - id: tip
    turns: [{content: "What is 18% of $64?"}]
    simulated_user:
      persona: A busy PM who wants the tip amount and nothing else
      goal: get 18% of $64
      max_turns: 2
      seed: 5
"""


def test_a_bundled_simulator_turn_parses(tmp_path: Path) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text(PROTOTYPE, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", str(path), "--json", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    assert "simulated user failed" not in result.stderr
    assert "simulated conversation ended" in result.stderr
    runs = json.loads(result.stdout)["runs"]
    assert runs[0]["user_turn"] is None and runs[0]["status"] == "ok"
    stored = load_prototype(path).runs
    assert all(r.status == "ok" for r in stored)
    for run in stored[1:]:  # each simulated turn is a real, non-empty user message
        assert run.user_turn == "simulated"
        assert run.messages[-1].role == "user" and run.messages[-1].content.strip()


def test_the_bundled_simulator_writes_the_first_message(tmp_path: Path) -> None:
    """No fixed turn: the bundled model writes the opening message, which parses and is sent."""
    path = tmp_path / "opening.yaml"
    text = PROTOTYPE.replace('    turns: [{content: "What is 18% of $64?"}]\n', "")
    path.write_text(text.replace("max_turns: 2", "max_turns: 1"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", str(path), "--json", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    (run,) = payload["runs"]
    assert run["user_turn"] == "simulated" and run["parent"] is None and run["status"] == "ok"
    assert [m["role"] for m in run["messages"]] == ["system", "user"]
    assert run["messages"][-1]["content"].strip()
    assert run["conversation_end"]["by"] == "max_turns"
    assert payload["simulator"]["calls"] == 1 and payload["simulator"]["tokens"] > 0
    (stored,) = load_prototype(path).runs
    assert stored.conversation_end is not None and stored.conversation_end.by == "max_turns"
