"""The layer rules, enforced by import-linter: core, providers and engine never import Qt,
and each layer imports only the layers below it (ui > engine > providers > core)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real `lint-imports` CLI with `cwd`'s pyproject.toml and `cwd`'s `app` package."""
    env = {**os.environ, "PYTHONPATH": str(cwd), "NO_COLOR": "1"}
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_layer_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "core, providers and engine never import Qt KEPT" in result.stdout
    assert "layers: ui > engine > providers > core KEPT" in result.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("app/core/errors.py", "import PySide6.QtCore", "core, providers and engine never import Qt"),
    ("app/engine/__init__.py", "from PySide6 import QtWidgets", "core, providers and engine never import Qt"),
    ("app/core/paths.py", "import app.providers", "layers: ui > engine > providers > core"),
])
def test_contracts_catch_a_violation(tmp_path: Path, module: str, line: str, broken: str) -> None:
    """The contracts can fail: the same check on a copy of the package with one bad import added."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # injected by test_layers\n",
                      encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert f"{broken} BROKEN" in result.stdout
