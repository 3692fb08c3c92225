"""Eval fixtures: the scriptable server answering per profile, a prototype file aimed at it, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from evals_kit import PROTO, ROOT, CliRunner, answer_by_profile
from fakeserver import FakeOpenAI


@pytest.fixture
def scripted(fake_server: FakeOpenAI) -> FakeOpenAI:
    fake_server.responder = answer_by_profile
    return fake_server


@pytest.fixture
def proto_file(tmp_path: Path, scripted: FakeOpenAI) -> Path:
    path = tmp_path / "evals.yaml"
    path.write_text(PROTO.format(base_url=scripted.base_url), encoding="utf-8")
    return path


@pytest.fixture
def cli() -> CliRunner:
    """Run `python -m app.cli ARGS` in a child process with this test's PROTOSTUDIO_HOME."""

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run
