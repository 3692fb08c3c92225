"""Bad input to the CLI gets a one-line message and exit 2, never a traceback, and the file is kept."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "prototypes" / "refusal-tone.yaml"


@pytest.fixture
def proto_file(tmp_path: Path) -> Path:
    path = tmp_path / "proto.yaml"
    path.write_bytes(EXAMPLE.read_bytes())
    return path


def test_ask_rejects_a_base_url_that_is_not_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "--provider", "ollama", "--model", "m", "--base-url", "notaurl", "hi"])
    assert code == 2
    assert "base URL must look like" in capsys.readouterr().err


def test_ask_rejects_a_timeout_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--timeout", "0", "hi"]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_seed_that_cannot_save_says_so_and_keeps_the_file(proto_file: Path) -> None:
    """A write limit makes the save fail for real (EFBIG) while the file still reads fine."""
    before = proto_file.read_bytes()

    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "seed", "--yes", str(proto_file)],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120, check=False,
        preexec_fn=limit_writes,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot save {proto_file}" in done.stderr
    assert proto_file.read_bytes() == before


def test_eval_json_path_that_cannot_be_written_gives_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proto_file = tmp_path / "cat.yaml"
    proto_file.write_bytes((ROOT / "prototypes" / "cat-persona.yaml").read_bytes())
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    # gpt-4o-mini has no key here, so every cell fails at once without a network call
    code = main(["eval", str(proto_file), "--profile", "light-touch", "--model", "gpt-4o-mini",
                 "--json", str(blocker / "out.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot write {blocker / 'out.json'}" in err


def test_providers_models_rejects_a_base_url_that_is_not_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "models", "ollama", "--base-url", "notaurl"]) == 2
    assert "base URL must look like" in capsys.readouterr().err
