"""The loader's defences: alias bombs, cycles, merge keys, odd keys, huge numbers, deep nesting."""

from __future__ import annotations

import pytest

from app.core.document import parse_prototype
from app.core.errors import PrototypeError
from app.core.yamlio import load_located


def only_problem(text: str) -> str:
    with pytest.raises(PrototypeError) as info:
        parse_prototype(text, "t.yaml")
    assert len(info.value.problems) == 1, info.value.problems
    return str(info.value.problems[0])


def billion_laughs(levels: int) -> str:
    lines = ["name: bomb", 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_without_expanding() -> None:
    """9**9 strings if expanded; refused after a bounded amount of work (no time assertion:
    the test would never finish at all if the aliases were expanded)."""
    message = only_problem(billion_laughs(9))
    assert "aliases (`*name`) expand this file to far more data than it contains" in message
    assert message.startswith("t.yaml:")


def test_merge_key_bomb_is_refused_too() -> None:
    lines = ["name: bomb", "m0: &m0 {a: 1, b: 2, c: 3}"]
    for i in range(1, 12):
        lines.append(f"m{i}: &m{i}\n  <<: [" + ", ".join([f"*m{i - 1}"] * 6) + "]\n  x{i}: [" +
                     ", ".join([f"*m{i - 1}"] * 6) + "]")
    with pytest.raises(PrototypeError, match="aliases"):
        parse_prototype("\n".join(lines) + "\n", "t.yaml")


def test_a_self_referencing_alias_is_refused() -> None:
    assert only_problem("name: x\ntags: &t [a, *t]\n") == (
        "t.yaml:2:7: an alias (`*name`) refers to a value that contains it"
    )


def test_modest_alias_use_is_fine() -> None:
    text = """\
name: Anchors
models:
  - id: a
    provider: local
    model: smollm2-135m-instruct
    params: &params
      temperature: 0.7
      max_tokens: 256
  - id: b
    provider: openai
    model: gpt-4o-mini
    params: *params
"""
    proto = parse_prototype(text)
    assert proto.model("b").params == proto.model("a").params
    assert proto.model("b").params.max_tokens == 256


def test_merge_keys_follow_yaml_rules_and_explicit_keys_win() -> None:
    text = """\
name: Merge
models:
  - id: a
    provider: local
    model: smollm2-135m-instruct
    params: &base {temperature: 0.7, max_tokens: 256}
  - id: b
    provider: local
    model: smollm2-135m-instruct
    params:
      <<: *base
      temperature: 0.1
"""
    proto = parse_prototype(text)
    assert proto.model("b").params.temperature == 0.1
    assert proto.model("b").params.max_tokens == 256


def test_merge_of_a_scalar_is_an_error() -> None:
    message = only_problem("name: x\nbase: &b 3\nthing:\n  <<: *b\n")
    assert "`<<` merges only mappings" in message


def test_keys_are_kept_as_written() -> None:
    data = load_located("null: 1\ntrue: 2\n1.50: 3\n~: 4\n'quoted': 5\n").data
    assert data == {"null": 1, "true": 2, "1.50": 3, "~": 4, "quoted": 5}


def test_keys_that_are_lists_or_mappings_are_refused() -> None:
    assert only_problem("name: x\n[a, b]: 1\n") == (
        "t.yaml:2:1: a mapping key must be plain text, not a list or a mapping"
    )
    assert "plain text" in only_problem("name: x\n? {a: 1}\n: 2\n")


def test_a_var_key_like_yes_stays_text() -> None:
    proto = parse_prototype(
        "name: x\ncases:\n  - id: c\n    vars:\n      yes: 64\n    turns:\n      - content: hi\n"
    )
    assert proto.case("c").vars == {"yes": "64"}


def test_huge_integers_are_an_error_not_a_crash() -> None:
    message = only_problem("name: x\nmodels:\n  - id: a\n    provider: p\n    model: m\n    params:\n"
                           f"      seed: {'9' * 6000}\n")
    assert message.startswith("t.yaml:7:13: '999") and "cannot be read as int" in message


@pytest.mark.parametrize("bad", ["!!int abc", "!!bool maybe", "!!float nope"])
def test_explicit_plain_tags_with_bad_values(bad: str) -> None:
    assert "cannot be read as" in only_problem(f"name: {bad}\n")


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_very_deep_nesting_is_refused(opener: str, closer: str) -> None:
    depth = 3_000 if opener == "- " else 5_000
    if opener == "- ":
        nested = "".join(f"{' ' * (2 * i)}-\n" for i in range(depth)) + " " * (2 * depth) + "x\n"
        text = "name: x\ntags:\n" + nested
    else:
        text = "name: x\ntags: " + opener * depth + "1" + closer * depth + "\n"
    with pytest.raises(PrototypeError):
        parse_prototype(text, "t.yaml")


def test_deep_but_sane_values_load() -> None:
    text = "name: x\ndefault_assert:\n  - type: is-json\n    value: " + "[" * 50 + "]" * 50 + "\n"
    assert parse_prototype(text).default_assert[0].value is not None


def test_multiple_documents_are_refused() -> None:
    assert "one YAML document" in only_problem("name: x\n---\nname: y\n")


def test_lone_surrogates_in_text_are_an_error() -> None:
    with pytest.raises(PrototypeError):
        parse_prototype("name: \ud800\n", "t.yaml")


def test_a_big_text_aliased_many_times_is_refused() -> None:
    big = "x" * 10_000
    text = f"name: x\nbase: &big {big}\nnotes: [" + ", ".join(["*big"] * 2_000) + "]\n"
    assert "aliases (`*name`) expand this file" in only_problem(text)


def test_ampersand_in_text_without_anchors_loads_normally() -> None:
    assert parse_prototype("name: Q&A & more\n").name == "Q&A & more"
