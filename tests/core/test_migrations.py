"""The migration chain: a file at an older `protostudio:` version is upgraded step by step on load."""

from __future__ import annotations

from typing import Any

import pytest

from app.core import document, prototype
from app.core.document import dumps_prototype, parse_prototype
from app.core.errors import PrototypeError

V1_FILE = """\
protostudio: 1
name: Old file
cases:
  - id: c1
    prompt: Hello there
"""


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A pretend format change: v1 cases had a single `prompt:`; v2 has `turns:`."""
    for case in data.get("cases", []):
        if "prompt" in case:
            case["turns"] = [{"role": "user", "content": case.pop("prompt")}]
    return data


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Another pretend change: `name` was renamed, proving steps run in order."""
    data["name"] = data["name"] + " (migrated)"
    return data


@pytest.fixture
def fake_v3(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def step(version: int, fn: Any) -> Any:
        def run(data: dict[str, Any]) -> dict[str, Any]:
            calls.append(version)
            assert data["protostudio"] == version
            return fn(data)
        return run

    monkeypatch.setattr(document, "FORMAT_VERSION", 3)
    monkeypatch.setattr(prototype, "FORMAT_VERSION", 3)
    monkeypatch.setattr(document, "MIGRATIONS", {1: step(1, _v1_to_v2), 2: step(2, _v2_to_v3)})
    return calls


def test_migrations_run_in_order_and_stamp_the_new_version(fake_v3: list[int]) -> None:
    proto = parse_prototype(V1_FILE, "old.yaml")
    assert fake_v3 == [1, 2]
    assert proto.protostudio == 3
    assert proto.name == "Old file (migrated)"
    assert proto.case("c1").turns[0].content == "Hello there"
    assert dumps_prototype(proto).startswith("protostudio: 3\nname: Old file (migrated)\n")


def test_a_current_file_runs_no_migration(fake_v3: list[int]) -> None:
    proto = parse_prototype("protostudio: 3\nname: New\n", "new.yaml")
    assert fake_v3 == []
    assert proto.protostudio == 3


def test_a_gap_in_the_chain_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document, "FORMAT_VERSION", 3)
    monkeypatch.setattr(document, "MIGRATIONS", {1: _v1_to_v2})
    with pytest.raises(PrototypeError) as info:
        parse_prototype(V1_FILE, "old.yaml")
    assert str(info.value) == "old.yaml:1:14: no migration from format version 2"


def test_a_migration_that_crashes_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("cases")

    monkeypatch.setattr(document, "FORMAT_VERSION", 2)
    monkeypatch.setattr(document, "MIGRATIONS", {1: broken})
    with pytest.raises(PrototypeError) as info:
        parse_prototype(V1_FILE, "old.yaml")
    assert str(info.value).startswith("old.yaml:1:14: could not upgrade this file from format version 1")


def test_the_real_chain_covers_every_old_version() -> None:
    assert set(document.MIGRATIONS) == set(range(1, document.FORMAT_VERSION))
