"""Start-up cost of the CLI: listing commands and validating a file import no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("openai", "numpy", "PySide6", "xllamacpp", "httpx", "httpx2")

PROBE = """
import contextlib, io, json, sys
from app.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "heavy": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["validate", "prototypes/cat-persona.yaml"],
                                  ["validate", "--help"]])
def test_light_commands_import_no_heavy_library(argv: list[str]) -> None:
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "heavy": []}


def test_help_still_lists_every_command() -> None:
    from app.cli import COMMANDS

    out = subprocess.run([sys.executable, "-m", "app.cli", "--help"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    for name in COMMANDS:
        assert f"    {name}" in out


EXIT_PROBE = """
import atexit, sys
atexit.register(lambda: print("exit handler ran", flush=True))
sys.argv = ["protostudio", *sys.argv[1:]]
from app.cli import main
raise SystemExit(main())
"""


@pytest.mark.parametrize(("argv", "code", "out"), [
    (["validate", "prototypes/cat-persona.yaml"], 0, ""),
    (["validate", "no/such/file.yaml"], 2, "no/such/file.yaml"),
])
def test_a_command_ends_with_its_exit_code_its_output_and_the_exit_handlers(
        argv: list[str], code: int, out: str) -> None:
    """The CLI skips the interpreter's teardown (`_exit_now`), never what the teardown would do."""
    done = subprocess.run([sys.executable, "-c", EXIT_PROBE, *argv], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == code
    assert out in done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("exit handler ran")


def test_a_non_daemon_thread_still_running_is_waited_for() -> None:
    probe = """
import sys, threading
import app.cli
def late():
    sys.stdin.readline()  # the test answers only once the command is done
    print("thread finished", flush=True)
threading.Thread(target=late).start()
exit_now = app.cli._exit_now
def announced(code):
    print("command done", flush=True)
    exit_now(code)
app.cli._exit_now = announced
sys.argv = ["protostudio", "validate", "prototypes/cat-persona.yaml"]
raise SystemExit(app.cli.main())
"""
    proc = subprocess.Popen([sys.executable, "-c", probe], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().strip() == "command done"
    proc.stdin.write("go\n")
    proc.stdin.close()
    assert proc.stdout.read().strip() == "thread finished"
    assert proc.wait(timeout=60) == 0
