"""`protostudio rate` and `protostudio report --agreement`: scripted rating and the agreement report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.commands.rate import main as rate_main
from app.core.document import load_prototype, save_prototype
from app.core.prototype import Case, Preference, Prototype, Run, Turn
from app.core.rater import Identity, current_rater, save_identity
from app.core.ratings import rating_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def proto_file(tmp_path: Path) -> Path:
    proto = Prototype(
        name="Team",
        cases=[Case(id="c", turns=[Turn(content="hi")])],
        runs=[Run(id=f"r{i}", created="2026-01-01T00:00:00Z", profile="p", model="m", case="c", output="x")
              for i in range(6)],
    )
    path = tmp_path / "team.yaml"
    save_prototype(proto, path)
    return path


def test_rate_sets_updates_and_clears_one_raters_rating(
    proto_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rate_main([str(proto_file), "--run", "r1", "--up", "--note", "warm", "--tag", "tone", "--tag",
                      "short", "--rater", "ana"]) == 0
    assert rate_main([str(proto_file), "--run", "r1", "--down", "--rater", "bo"]) == 0
    run = load_prototype(proto_file).run("r1")
    ana, bo = rating_of(run, "ana"), rating_of(run, "bo")
    assert (ana.thumb, ana.note, ana.tags) == ("up", "warm", ["tone", "short"])
    assert ana.updated is not None and bo.thumb == "down"

    assert rate_main([str(proto_file), "--run", "r1", "--down", "--rater", "ana", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (printed["thumb"], printed["note"], printed["changed"]) == ("down", "warm", True)  # note kept

    before = proto_file.read_bytes()
    assert rate_main([str(proto_file), "--run", "r1", "--down", "--rater", "ana"]) == 0
    assert proto_file.read_bytes() == before  # nothing changed, nothing written
    assert rate_main([str(proto_file), "--run", "r1", "--clear", "--rater", "ana"]) == 0
    run = load_prototype(proto_file).run("r1")
    assert [r.rater for r in run.ratings] == ["bo"]


def test_rate_refuses_unknown_runs_and_bad_flag_mixes(
    proto_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = proto_file.read_bytes()
    assert rate_main([str(proto_file), "--run", "nope", "--up"]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    assert rate_main([str(proto_file), "--run", "r1", "--clear", "--note", "x"]) == 2
    with pytest.raises(SystemExit):
        rate_main([str(proto_file), "--run", "r1", "--up", "--down"])
    assert proto_file.read_bytes() == before


def test_rater_comes_from_flag_then_env_then_settings_then_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.core.rater.os_login_name", lambda: "login")
    assert current_rater() == "login"
    save_identity(Identity("Ana Silva", "ana@example.com"))
    assert current_rater() == "Ana Silva <ana@example.com>"
    monkeypatch.setenv("PROTOSTUDIO_RATER", "ci-bot")
    assert current_rater() == "ci-bot"
    assert current_rater("bo") == "bo"
    monkeypatch.setattr("app.core.rater.os_login_name", lambda: "")
    monkeypatch.delenv("PROTOSTUDIO_RATER")
    save_identity(Identity("", "x@example.com"))
    assert current_rater() == "unknown"


def test_rate_uses_the_environment_rater(proto_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROTOSTUDIO_RATER", "importer")
    assert rate_main([str(proto_file), "--run", "r2", "--up"]) == 0
    assert rating_of(load_prototype(proto_file).run("r2"), "importer").thumb == "up"


def report(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "app.cli", "report", *args], cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=120, check=False)


def test_report_agreement_text_and_json(proto_file: Path) -> None:
    thumbs = {"ana": "up up down down up down", "bo": "up down down down up up"}
    for rater, row in thumbs.items():
        for index, thumb in enumerate(row.split()):
            assert rate_main([str(proto_file), "--run", f"r{index}", f"--{thumb}", "--rater", rater]) == 0
    proto = load_prototype(proto_file)
    proto.preferences = [Preference(id=f"v{i}", created="1", rater="ana", a="r0", b="r1", verdict="a",
                                    blind=True)
                         for i in range(8)]
    save_prototype(proto, proto_file)

    result = report(str(proto_file), "--agreement", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["raters"] == ["ana", "bo"]
    [thumb_row] = data["between_raters"]
    assert (thumb_row["method"], thumb_row["shared"]) == ("Cohen's kappa", 6)
    assert thumb_row["value"] == pytest.approx(1 / 3)
    assert thumb_row["summary"] == "fair agreement, 6 shared answers (Cohen's kappa 0.33)"
    [bias] = data["position_bias"]
    assert (bias["rater"], bias["left_share"], bias["biased"]) == ("ana", 1.0, True)

    text = report(str(proto_file), "--agreement").stdout
    assert "thumbs  ana · bo: fair agreement, 6 shared answers" in text
    assert "ana: 100% of 8 decisive blind votes went to the left" in text

    only_bo = json.loads(report(str(proto_file), "--json", "--rater", "bo", "--samples", "0").stdout)
    assert [(v["thumbs_up"], v["thumbs_down"]) for v in only_bo["variants"]] == [(3, 3)]
    assert only_bo["votes"] == 0  # all votes are ana's
