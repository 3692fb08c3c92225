"""Seeding: ratings and specs become reviewed proposals; `protostudio seed` writes only accepted ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evals_kit import CliRunner

from app.core.document import load_prototype, parse_prototype, save_prototype
from app.core.seeding import DEFAULT_TARGET, apply, propose

TEXT = """\
name: seeded
profiles:
  - id: cat
    behavior_spec:
      - id: brief
        rule: Answer in at most two sentences.
        good: ["Meow. The sun is warm."]
        bad: ["Let me explain in detail, with five paragraphs..."]
models: [{id: m, provider: vllm, model: x}]
cases:
  - id: greet
    turns: [{content: Hello}]
  - id: nap
    turns: [{content: Where do you nap?}]
    assert: [{type: similar, value: On the windowsill.}]
runs:
  - {id: r1, created: "2026-11-22T06:00:00Z", profile: cat, model: m, case: greet, output: "Meow! Hello.",
     ratings: [{thumb: up}]}
  - {id: r2, created: "2026-11-22T06:00:00Z", profile: cat, model: m, case: greet,
     output: "Greetings, human.", ratings: [{thumb: down, note: "Too formal for a cat."}]}
  - {id: r3, created: "2026-11-22T06:00:00Z", profile: cat, model: m, case: nap, output: "On the windowsill.",
     ratings: [{thumb: up}]}
  - {id: r4, created: "2026-11-22T06:00:00Z", profile: cat, model: m, case: nap, output: "", status: error,
     ratings: [{thumb: down, note: "broken"}]}
  - {id: r5, created: "2026-11-22T06:00:00Z", profile: cat, model: m, case: nap, output: "Zzz.",
     ratings: [{note: "no thumb, no proposal"}]}
"""


def test_proposals_from_thumbs_notes_and_specs() -> None:
    proto = parse_prototype(TEXT)
    found = [(p.target, p.assertion.type, p.assertion.value) for p in propose(proto)]
    assert found == [
        ("greet", "similar", "Meow! Hello."),
        ("greet", "not-similar", "Greetings, human."),
        (
            "greet",
            "llm-rubric",
            "The response must not have the problem a reviewer found in an earlier answer: "
            "Too formal for a cat.",
        ),
        (DEFAULT_TARGET, "llm-rubric", "Answer in at most two sentences."),
        (DEFAULT_TARGET, "similar", "Meow. The sun is warm."),
        (DEFAULT_TARGET, "not-similar", "Let me explain in detail, with five paragraphs..."),
    ]  # r3 already exists as an assertion; r4 failed; r5 has no thumb


def test_each_proposal_says_where_it_came_from() -> None:
    proposals = propose(parse_prototype(TEXT))
    assert proposals[0].assertion.description == "seeded from a thumbs-up on r1 (cat × m)"
    assert proposals[2].origin.startswith(
        "drafted from the note on a thumbs-down on r2 (cat × m): Too formal"
    )
    assert proposals[3].origin == "seeded from the behavior spec: rule 'brief' of profile 'cat'"


def test_apply_then_propose_again_finds_nothing_new(tmp_path: Path) -> None:
    proto = parse_prototype(TEXT)
    assert apply(proto, propose(proto)) == 6
    assert len(proto.case("greet").assert_) == 3 and len(proto.default_assert) == 3
    path = tmp_path / "p.yaml"
    save_prototype(proto, path)
    assert propose(load_prototype(path)) == []


def test_seed_cli_without_a_terminal_writes_nothing(tmp_path: Path, cli: CliRunner) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(TEXT, encoding="utf-8")
    done = cli("seed", str(path), stdin="y\ny\n")
    assert done.returncode == 0
    assert "6 proposals; nothing written" in done.stderr and "--yes" in done.stderr
    assert "[1/6] similar" in done.stdout
    assert path.read_text(encoding="utf-8") == TEXT


def test_seed_cli_json_lists_and_yes_writes(tmp_path: Path, cli: CliRunner) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(TEXT, encoding="utf-8")
    listed = cli("seed", str(path), "--json")
    assert listed.returncode == 0
    data = json.loads(listed.stdout)
    assert data[0] == {
        "target": "greet",
        "origin": "seeded from a thumbs-up on r1 (cat × m)",
        "assertion": {
            "type": "similar",
            "value": "Meow! Hello.",
            "description": "seeded from a thumbs-up on r1 (cat × m)",
        },
    }
    assert path.read_text(encoding="utf-8") == TEXT
    done = cli("seed", str(path), "--yes")
    assert done.returncode == 0 and "added 6 of 6" in done.stderr
    proto = load_prototype(path)
    assert [a.type for a in proto.default_assert] == ["llm-rubric", "similar", "not-similar"]
    again = cli("seed", str(path), "--yes")
    assert again.returncode == 0 and "nothing to propose" in again.stderr


def test_seed_cli_bad_file_exits_2(tmp_path: Path, cli: CliRunner) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    done = cli("seed", str(path))
    assert done.returncode == 2 and "bad.yaml:" in done.stderr


def test_seed_asks_per_proposal_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    path = tmp_path / "p.yaml"
    path.write_text(TEXT, encoding="utf-8")
    answers = iter(["y", "maybe", "n", "", "a"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    assert main(["seed", str(path)]) == 0
    proto = load_prototype(path)
    # 1 yes, 2 asked twice ("maybe" is not an answer) then no, 3 no (empty), 4 "all": 4, 5 and 6
    assert [a.type for a in proto.case("greet").assert_] == ["similar"]
    assert [a.type for a in proto.default_assert] == ["llm-rubric", "similar", "not-similar"]
    assert "added 4 of 6" in capsys.readouterr().err
