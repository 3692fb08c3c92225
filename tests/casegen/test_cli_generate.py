"""`protostudio generate`: nothing is written without a yes; --yes and --json; bad input; validate probes."""

from __future__ import annotations

import builtins
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI

from app.cli import main
from app.core.document import load_prototype

from .kit import PROTO, proposal_reply


@pytest.fixture
def proto_file(tmp_path: Path, fake_server: FakeOpenAI) -> Path:
    fake_server.responder = proposal_reply
    path = tmp_path / "gen.yaml"
    path.write_text(PROTO.format(base_url=fake_server.base_url), encoding="utf-8")
    return path


class _Stdin(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__("")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin(tty=False))


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A terminal whose user types the strings appended to the list, in order."""
    typed: list[str] = []
    monkeypatch.setattr("sys.stdin", _Stdin(tty=True))
    monkeypatch.setattr(builtins, "input", lambda _prompt="": typed.pop(0))
    yield typed


def test_without_yes_and_without_a_terminal_nothing_is_written(
    proto_file: Path, no_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = proto_file.read_bytes()
    assert main(["generate", str(proto_file), "--model", "fake", "--count", "3", "--seed", "5"]) == 0
    out, err = capsys.readouterr()
    assert proto_file.read_bytes() == before
    assert out.count("probes ") == 3 and "Write something about" in out
    assert "nothing written" in err and "--seed 5 --yes" in err


def test_json_without_yes_writes_nothing_and_has_the_documented_shape(
    proto_file: Path, no_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = proto_file.read_bytes()
    assert (
        main(["generate", str(proto_file), "--model", "fake", "--count", "2", "--seed", "1", "--json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert proto_file.read_bytes() == before
    assert set(data) == {
        "version",
        "file",
        "seed",
        "requested",
        "cancelled",
        "proposals",
        "dropped_duplicates",
        "duplicate_share",
        "failures",
        "coverage",
        "written",
    }
    assert data["written"] == [] and data["requested"] == 2 and data["seed"] == 1
    assert set(data["proposals"][0]) == {
        "index",
        "rule",
        "kind",
        "persona",
        "seed",
        "user_message",
        "description",
        "model",
        "prompt_version",
        "duplicate_of",
        "similarity",
        "checks",
        "dropped_checks",
    }
    assert data["coverage"]["unprobed_before"] == ["chat-for-small", "polite"]


def test_yes_writes_every_proposal_as_a_case(proto_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            ["generate", str(proto_file), "--model", "fake", "--uncovered", "--yes", "--json", "--seed", "3"]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    proto = load_prototype(proto_file)
    new = proto.cases[1:]
    assert [c.id for c in new] == data["written"] and len(new) == 4  # two per uncovered rule
    assert {c.probes[0] for c in new} == {"chat-for-small", "polite"}
    assert all(c.origin is not None and c.origin.model == "fake" for c in new)
    assert data["coverage"]["unprobed_after"] == []


def test_each_proposal_is_asked_about_on_a_terminal(
    proto_file: Path, answers: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    answers.extend(["n", "e", "My own wording of it.", "q"])
    assert main(["generate", str(proto_file), "--model", "fake", "--rule", "polite", "--count", "3"]) == 0
    proto = load_prototype(proto_file)
    assert [c.turns[0].content for c in proto.cases[1:]] == ["My own wording of it."]
    assert proto.cases[1].probes == ["polite"]
    assert "added 1 of 3" in capsys.readouterr().err


def test_unknown_rules_and_models_are_refused(
    proto_file: Path, no_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", str(proto_file), "--rule", "nope", "--model", "fake"]) == 2
    assert "unknown rule 'nope'" in capsys.readouterr().err
    assert main(["generate", str(proto_file), "--model", "nothing-like-it"]) == 2
    assert "neither a model target" in capsys.readouterr().err


def test_every_call_failing_exits_3(proto_file: Path, fake_server: FakeOpenAI, no_terminal: None) -> None:
    from fakeserver import Reply

    fake_server.responder = lambda rec: Reply(status=400, message="no")
    assert main(["generate", str(proto_file), "--model", "fake", "--count", "2"]) == 3


def test_validate_locates_a_probe_of_an_unknown_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    text = PROTO.format(base_url="http://127.0.0.1:9/v1").replace(
        "probes: [open-for-drafts]", "probes: [open-for-drafts, open-for-draft]"
    )
    path.write_text(text, encoding="utf-8")
    line_no = text.splitlines().index("    probes: [open-for-drafts, open-for-draft]") + 1
    col = len("    probes: [open-for-drafts, ") + 1
    assert main(["validate", str(path)]) == 2
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{path}:{line_no}:{col}: ") and "unknown rule 'open-for-draft'" in line
