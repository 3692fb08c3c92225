"""`llm-rubric` judged by the real bundled model: its verdicts always parse (JSON-schema decoding).

Whether the verdicts are *right* is a separate, honest question: `bench/bench_local_judge.py`
measures their agreement with the behavior specs' good and bad examples.
"""

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
protostudio: 1
name: Judge check
profiles:
  - id: terse
    system_prompt: Answer in one short sentence.
  - id: chatty
    system_prompt: You are an enthusiastic assistant who loves details.
models:
  - id: local
    provider: local
    model: smollm2-135m-instruct
    params: {temperature: 0, seed: 3, max_tokens: 40}
cases:
  - id: capital
    turns: [{content: What is the capital of France?}]
  - id: tip
    turns: [{content: "What is 18% of $64?"}]
default_assert:
  - type: llm-rubric
    value: The answer is polite.
  - type: llm-rubric
    value: The answer is at most two sentences long.
"""


def test_eval_with_the_bundled_judge_never_reports_an_unreadable_verdict(tmp_path: Path) -> None:
    path = tmp_path / "judge.yaml"
    path.write_text(PROTOTYPE, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "eval", str(path), "--json", "-", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode in (0, 1), result.stderr  # 1: some rubric failed, which is allowed
    report = json.loads(result.stdout)
    text = json.dumps(report)
    assert "not understood" not in text
    stored = load_prototype(path).evals[-1]
    rubric = [a for r in stored.results for a in r.assertions if a.type == "llm-rubric"]
    assert len(rubric) == 2 * 2 * 2  # 2 profiles x 2 cases x 2 rubrics, each with a verdict
    assert all(a.reason and "not understood" not in a.reason for a in rubric)
