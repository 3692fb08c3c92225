"""Saving checks the item limits: the app never writes a file it would then refuse to open.

A save past a limit is refused with the limit named, nothing is written and the file on disk keeps
its bytes (issue 16 item 9). The limits are patched small so the files stay small."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.commands.common import save_or_report
from app.core import limits, yamlfast, yamlio
from app.core.document import dumps_prototype, load_prototype, parse_prototype, save_prototype, to_data
from app.core.errors import PrototypeError
from app.core.limits import TooManyToSave
from app.core.prototype import Prototype, Rating, Run

BASE = "protostudio: 3\nname: x\n"


def with_runs(count: int, tags: int = 0) -> Prototype:
    proto = parse_prototype(BASE)
    proto.runs = [Run(id=f"r{i}", created="2026-11-30T00:00:00Z", profile="p", model="m", case="c",
                      output="hi", ratings=[Rating(rater="ana", tags=[f"t{j}" for j in range(tags)])])
                  for i in range(count)]
    return proto


def test_a_save_past_the_runs_limit_is_refused_and_the_file_is_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(limits.MAX_ITEMS, "runs", 3)
    path = tmp_path / "p.yaml"
    save_prototype(with_runs(3), path)  # at the limit: written, and it opens again
    before = path.read_bytes()
    assert len(load_prototype(path).runs) == 3
    with pytest.raises(TooManyToSave) as caught:
        save_prototype(with_runs(4), path)
    assert "`runs:` has more than 3 items" in str(caught.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]  # no temp file left behind


def test_the_limit_the_save_checks_is_the_one_the_loader_enforces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the check, the same document saves and then fails to open (the bug being fixed)."""
    monkeypatch.setitem(limits.MAX_ITEMS, "runs", 3)
    text = yamlio.dump(to_data(with_runs(4)))  # what saving wrote before it checked
    with pytest.raises(PrototypeError, match="`runs:` has more than 3 items"):
        parse_prototype(text)


def test_nested_lists_are_checked_by_the_key_that_holds_them(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    save_prototype(with_runs(1, tags=limits.MAX_ITEMS["tags"]), path)
    with pytest.raises(TooManyToSave, match="`tags:` has more than 1,000 items"):
        save_prototype(with_runs(1, tags=limits.MAX_ITEMS["tags"] + 1), path)
    assert len(load_prototype(path).runs[0].ratings[0].tags) == 1_000


def test_the_file_total_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TOTAL_ITEMS", 40)
    dumps_prototype(with_runs(2))
    with pytest.raises(TooManyToSave, match="the file has more than 40 list items and keys in all"):
        dumps_prototype(with_runs(10))


def test_the_cli_says_why_and_keeps_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(limits.MAX_ITEMS, "runs", 3)
    path = tmp_path / "p.yaml"
    save_prototype(with_runs(1), path)
    before = path.read_bytes()
    assert not save_or_report("run", with_runs(4), path)
    err = capsys.readouterr().err
    assert "`runs:` has more than 3 items" in err and "the file is unchanged" in err
    assert path.read_bytes() == before


def test_the_pyyaml_fallback_checks_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Data the fast writer leaves to PyYAML (odd keys, odd types) is checked by a walk of the data."""
    monkeypatch.setitem(limits.MAX_ITEMS, "runs", 3)
    monkeypatch.setattr(yamlio, "fast_dump", lambda _data, **_kwargs: None)
    assert dumps_prototype(with_runs(3)) == dumps_prototype_fast(with_runs(3))
    with pytest.raises(TooManyToSave, match="`runs:` has more than 3 items"):
        dumps_prototype(with_runs(4))


def dumps_prototype_fast(proto: Prototype) -> str:
    text = yamlfast.fast_dump(to_data(proto), check_limits=True)
    assert text is not None
    return text
