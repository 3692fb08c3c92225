"""`protostudio report` through the real entry point, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from core.test_scoring import make_proto, many_votes, vote

from app.core.document import save_prototype
from app.core.prototype import Rating
from app.core.scoring import leaderboard

ROOT = Path(__file__).resolve().parent.parent


def report(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "report", *args],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120, check=False,
    )


@pytest.fixture
def voted_file(tmp_path: Path) -> Path:
    proto = make_proto(n_cases=2)
    many_votes(proto, 2)
    vote(proto, "p1", "p3", "both_bad", blind=False)
    vote(proto, "p3", "p1", "a", blind=False)
    proto.run("run-p1-c0").ratings = [Rating(thumb="up")]
    proto.run("run-p1-c1").ratings = [Rating(thumb="down")]
    proto.run("run-p2-c0").ratings = [Rating(thumb="up")]
    path = tmp_path / "voted.yaml"
    save_prototype(proto, path)
    return path


def test_table_shows_every_column(voted_file: Path) -> None:
    done = report(str(voted_file), "--samples", "200")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "scoring: 3 variants, 24 votes, 22 blind"
    start = next(i for i, line in enumerate(lines) if line.startswith("Variant"))
    for column in ("👍 rate", "Win rate", "W/L/T", "Both bad", "BT score (95% CI)", "Votes"):
        assert column in lines[start]
    table = lines[start + 1 : start + 4]
    rows = {line.split("  ")[0]: line for line in table}
    assert table[0].startswith("P1 × Tiny"), "the best variant comes first"
    p1 = rows["P1 × Tiny"]
    assert "50% (1/2)" in p1 and "10/5/2" in p1 and p1.endswith(" 18")
    assert "100% (1/1)" in rows["P2 × Tiny"]
    assert "Head to head" in done.stdout


def test_json_matches_the_library(voted_file: Path) -> None:
    done = report(str(voted_file), "--json", "--samples", "100", "--seed", "3")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    from app.core.document import load_prototype

    expected = leaderboard(load_prototype(voted_file), samples=100, seed=3)
    assert [(v["profile"], v["bt_score"], v["ci_low"], v["ci_high"]) for v in data["variants"]] == [
        (r.variant.profile, r.bt_score, r.ci_low, r.ci_high) for r in expected
    ]
    p1 = next(v for v in data["variants"] if v["profile"] == "p1")
    assert (p1["wins"], p1["losses"], p1["ties"], p1["both_bad"], p1["thumb_rate"]) == (10, 5, 2, 1, 0.5)
    assert data["votes"] == 24 and len(data["pairs"]) == 3


def test_blind_only_drops_the_sighted_votes(voted_file: Path) -> None:
    done = report(str(voted_file), "--json", "--blind-only", "--samples", "0")
    data = json.loads(done.stdout)
    assert data["blind_only"] is True and data["votes"] == 22
    p1 = next(v for v in data["variants"] if v["profile"] == "p1")
    assert (p1["losses"], p1["both_bad"], p1["ci_low"]) == (4, 0, None)


def test_no_votes_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "fresh.yaml"
    save_prototype(make_proto(), path)
    done = report(str(path))
    assert done.returncode == 0
    assert "No pairwise votes yet" in done.stdout


def test_malformed_file_exits_2_with_location(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: broken\nprofiles:\n  - id: a\n    nmae: typo\n", encoding="utf-8")
    done = report(str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{path}:4:5: unknown key 'nmae'" in done.stderr
