"""The bundled model writes proposals under the proposal schema's grammar: every reply parses.

Whether the cases are *good* is another question (a 135M model writes weak ones; the UI and the
docs say so); `bench/bench_generate.py` measures throughput and the share of near-duplicates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_the_bundled_models_proposals_always_parse(tmp_path: Path) -> None:
    path = tmp_path / "canvas.yaml"
    path.write_bytes((ROOT / "prototypes" / "canvas-trigger.yaml").read_bytes())
    before = path.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "generate", str(path), "--count", "2", "--seed", "11", "--json"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["failures"] == []  # grammar-constrained: no reply fails to parse
    assert len(data["proposals"]) + len(data["dropped_duplicates"]) == 2
    assert all(p["user_message"].strip() and p["model"] == "local" for p in data["proposals"])
    assert "small" in done.stderr or "135M" in done.stderr
    assert path.read_bytes() == before  # --json without --yes writes nothing
