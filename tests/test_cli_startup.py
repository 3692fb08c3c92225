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
