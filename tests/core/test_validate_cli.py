"""`protostudio validate FILE...`: exit 0 when all files are valid, else FILE:LINE:COL lines and exit 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import EXAMPLES, ROOT


def validate(*files: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", "validate", *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_valid_examples_exit_zero() -> None:
    result = validate(*EXAMPLES)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_tampered_file_exits_two_with_file_line_col(tmp_path: Path) -> None:
    source = next(p for p in EXAMPLES if p.name == "cat-persona.yaml").read_text(encoding="utf-8")
    tampered = tmp_path / "tampered.yaml"
    tampered.write_text(source.replace("    system_prompt: |", "    system_promt: |", 1)
                        .replace("      max_tokens: 256", "      max_tokens: lots", 1), encoding="utf-8")
    result = validate(EXAMPLES[0], tampered)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert re.match(rf"^{re.escape(str(tampered))}:\d+:\d+: \S", line), line
    line_no = source.splitlines().index("    system_prompt: |") + 1
    assert lines[0] == (f"{tampered}:{line_no}:5: unknown key 'system_promt' in profiles[0]; "
                        "did you mean 'system_prompt'?")
    assert "models[0].params.max_tokens: input should be a valid integer" in lines[1]


def test_syntax_error_and_missing_file_both_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    result = validate(broken, tmp_path / "missing.yaml")
    assert result.returncode == 2
    assert result.stdout.startswith(f"{broken}:1:7: YAML syntax error")  # where the `[` opens
    assert f"{tmp_path / 'missing.yaml'}:1:1: cannot read file" in result.stdout


def test_no_files_is_a_usage_error() -> None:
    assert validate().returncode == 2


def test_an_assertion_that_cannot_be_graded_is_reported(tmp_path: Path) -> None:
    source = next(p for p in EXAMPLES if p.name == "instruction-following.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad-assert.yaml"
    bad.write_text(source.replace("- type: bullet-count", "- type: bulet-count", 1), encoding="utf-8")
    result = validate(bad)
    assert result.returncode == 2
    line_no = source.splitlines().index("      - type: bullet-count") + 1
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"{bad}:{line_no}:"), line
    assert "bulet-count" in line
