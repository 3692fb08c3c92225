"""A FIFO, a folder or a device given as FILE is refused at once with exit 2, never read (it could
block forever)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False, env=env)


@pytest.mark.parametrize("command", ["validate", "run", "eval", "report", "export"])
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "proto.yaml"
    os.mkfifo(fifo)
    extra = ["--to", "dpo", "--out", str(tmp_path / "o")] if command == "export" else []
    done = _cli(command, str(fifo), *extra)  # before the fix this hung until the timeout
    assert done.returncode == 2, done.stderr
    expected = f"{fifo}:1:1: cannot read file: it is a pipe (FIFO), not a regular file"
    assert expected in done.stderr + done.stdout


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "a device"), (".", "a folder")])
def test_devices_and_folders_are_refused(path: str, kind: str) -> None:
    from app.core.document import load_prototype
    from app.core.errors import PrototypeError

    with pytest.raises(PrototypeError, match=f"it is {kind}, not a regular file"):
        load_prototype(path)


def test_a_path_with_a_nul_byte_is_a_clear_error_not_a_traceback() -> None:
    from app.core.document import load_prototype
    from app.core.errors import PrototypeError

    with pytest.raises(PrototypeError, match="the path contains a NUL character"):
        load_prototype("proto\0.yaml")
