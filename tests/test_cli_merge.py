"""`protostudio merge` on the command line and as a real git merge driver in a temporary repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.commands.merge import main as merge_main
from app.core.document import dumps_prototype, load_prototype
from app.core.ratings import rater_label

ROOT = Path(__file__).resolve().parent.parent

BASE = """\
protostudio: 3
name: Demo
profiles:
  - id: playful
    system_prompt: Be playful.
  - id: plain
    system_prompt: Be plain.
models:
  - {id: m, provider: openai, model: gpt-4o-mini}
cases:
  - id: c1
    turns: [{content: hi}]
runs:
  - {id: r1, created: "2026-01-01T00:00:00Z", profile: playful, model: m, case: c1, output: hello}
"""

RUN_R2 = '  - {id: r2, created: "2026-01-02T00:00:00Z", profile: plain, model: m, case: c1, output: yo}\n'


def rate(text: str, rater: str, thumb: str) -> str:
    rating = f'{{rater: {rater}, thumb: {thumb}, updated: "2026-01-03T00:00:00Z"}}'
    return text.replace("output: hello}", f"output: hello, ratings: [{rating}]}}")


def test_three_way_writes_ours_and_two_way_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, ours, theirs = (tmp_path / f"{n}.yaml" for n in ("base", "ours", "theirs"))
    base.write_text(BASE)
    ours.write_text(rate(BASE, "ana", "up").replace("Be playful.", "Be very playful."))
    theirs.write_text(BASE + RUN_R2)
    assert merge_main([str(base), str(ours), str(theirs)]) == 0
    merged = load_prototype(ours)
    assert [r.id for r in merged.runs] == ["r1", "r2"]
    assert merged.profile("playful").system_prompt == "Be very playful."
    assert ours.read_text() == dumps_prototype(merged)  # canonical

    capsys.readouterr()
    ours.write_text(rate(BASE, "ana", "up"))
    assert merge_main([str(ours), str(theirs)]) == 0  # two-way: a file exchanged outside git
    printed = capsys.readouterr().out
    two_way = load_prototype(ours).model_copy()
    assert [r.id for r in two_way.runs] == ["r1"]  # nothing written without -o
    out = tmp_path / "two.yaml"
    out.write_text(printed)
    assert [(r.id, len(r.ratings)) for r in load_prototype(out).runs] == [("r1", 1), ("r2", 0)]
    assert printed == dumps_prototype(load_prototype(out))
    assert merge_main([str(theirs), str(ours), "-o", str(out)]) == 0
    assert out.read_text() == printed  # same union whichever side comes first


def test_conflict_exits_1_writes_nothing_and_reports_file_line_col(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, ours, theirs = (tmp_path / f"{n}.yaml" for n in ("base", "ours", "theirs"))
    base.write_text(BASE)
    ours.write_text(BASE.replace("Be playful.", "Be very playful."))
    theirs.write_text(BASE.replace("Be playful.", "Be a bit playful."))
    before = ours.read_bytes()
    assert merge_main([str(base), str(ours), str(theirs)]) == 1
    err = capsys.readouterr().err
    assert f"{ours}:5:20: conflict at profiles[playful].system_prompt" in err
    assert '"Be very playful."' in err and '"Be a bit playful."' in err
    assert ours.read_bytes() == before

    out = tmp_path / "out.yaml"
    assert merge_main([str(base), str(ours), str(theirs), "-o", str(out)]) == 1
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "validate", str(out)], capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )
    assert result.returncode == 2
    assert f"{out}:6:1: unresolved merge conflict" in result.stdout


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad, good = tmp_path / "bad.yaml", tmp_path / "good.yaml"
    bad.write_text("name: [unclosed\n")
    good.write_text(BASE)
    assert merge_main([str(bad), str(good)]) == 2
    assert f"{bad}:" in capsys.readouterr().err


# -- git ---------------------------------------------------------------------------------------------


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, check=check)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    # the lines the README documents, with `protostudio` spelled as this interpreter running this checkout
    (repo / ".gitattributes").write_text("*.yaml merge=protostudio\n")
    git(repo, "config", "merge.protostudio.name", "Protostudio prototype merge")
    git(repo, "config", "merge.protostudio.driver",
        f"'{sys.executable}' -m app.cli merge %O %A %B -o %A --name %P")
    (repo / "demo.yaml").write_text(BASE)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def branch(repo: Path, name: str, text: str) -> None:
    git(repo, "checkout", "-q", "-b", name, "main")
    (repo / "demo.yaml").write_text(text)
    git(repo, "commit", "-q", "-am", name)


def test_git_driver_unions_runs_and_ratings_from_two_branches(repo: Path) -> None:
    branch(repo, "designer", rate(BASE, "ana", "up").replace("Be playful.", "Be very playful."))
    branch(repo, "pm", rate(BASE + RUN_R2, "bo", "down").replace("Be plain.", "Be terse."))
    git(repo, "checkout", "-q", "designer")
    merged = git(repo, "merge", "-q", "--no-edit", "pm", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    proto = load_prototype(repo / "demo.yaml")
    assert [r.id for r in proto.runs] == ["r1", "r2"]
    assert sorted((rater_label(r.rater), r.thumb) for r in proto.run("r1").ratings) == [("ana", "up"),
                                                                                          ("bo", "down")]
    assert [p.system_prompt for p in proto.profiles] == ["Be very playful.", "Be terse."]
    assert (repo / "demo.yaml").read_text() == dumps_prototype(proto)


def test_git_driver_leaves_a_conflict_that_validate_refuses(repo: Path) -> None:
    branch(repo, "designer", BASE.replace("Be playful.", "Be very playful."))
    branch(repo, "pm", BASE.replace("Be playful.", "Be a bit playful."))
    git(repo, "checkout", "-q", "designer")
    merged = git(repo, "merge", "--no-edit", "pm", check=False)
    assert merged.returncode != 0
    assert "demo.yaml (ours):5:20: conflict at profiles[playful].system_prompt" in merged.stderr
    assert "CONFLICT" in merged.stdout
    text = (repo / "demo.yaml").read_text()
    assert "<<<<<<< ours: demo.yaml (ours)" in text and "Be a bit playful." in text
    status = git(repo, "status", "--porcelain").stdout
    assert "UU demo.yaml" in status
