"""`protostudio status FILE [--json]`: every cell's current answer, rating, freshness, samples; exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.core.document import save_prototype
from app.core.messages import build_messages
from app.core.prototype import Case, ModelTarget, Profile, Prototype, Rating, Run, Turn


def _proto() -> Prototype:
    proto = Prototype(
        name="s",
        profiles=[Profile(id="p1", name="Terse", system_prompt="Be brief."), Profile(id="p2")],
        models=[ModelTarget(id="m", provider="local", model="tiny", name="Tiny")],
        cases=[Case(id="c", turns=[Turn(content="hi")])],
    )
    for n, output in enumerate(["Old answer", "New answer\nsecond line"]):
        proto.runs.append(Run(
            id=f"r{n}", created="t", profile="p1", model="m", case="c", provider="local", model_name="tiny",
            messages=build_messages(proto, proto.profile("p1"), proto.case("c")), output=output,
            rating=Rating(thumb="up") if n == 1 else Rating(),
        ))
    return proto


def test_json_lists_every_cell_with_its_current_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    save_prototype(_proto(), path)
    assert main(["status", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    first, second = out["cells"]
    fields = ("profile", "model", "case", "sample", "run", "rating", "stale", "samples")
    assert {k: first[k] for k in fields} == {
        "profile": "p1", "model": "m", "case": "c", "sample": 0, "run": "r1", "rating": "up",
        "stale": False, "samples": 1}
    assert second["profile"] == "p2" and second["run"] is None and second["rating"] is None
    assert out["totals"]["cells"] == 2 and out["totals"]["up"] == 1 and out["totals"]["not_run"] == 1


def test_an_edited_profile_shows_out_of_date_with_its_new_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proto = _proto()
    proto.profile("p1").system_prompt = "Be long."
    proto.profile("p1").name = "Verbose"
    path = tmp_path / "s.yaml"
    save_prototype(proto, path)
    assert main(["status", str(path)]) == 0
    text = capsys.readouterr().out
    line = next(line for line in text.splitlines() if "Verbose" in line)
    assert "out of date" in line and "New answer" in line and "second line" not in line and "👍" in line
    assert "Terse" not in text
    assert "1 stale" in text.splitlines()[-1]
    assert main(["status", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cells"][0]["stale"] is True


def test_a_broken_file_is_reported_with_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    assert main(["status", str(path)]) == 2
    assert "bad.yaml:" in capsys.readouterr().err
