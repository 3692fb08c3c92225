"""The promptfoo import on a corpus of configs written from promptfoo's documented format and examples.

Each folder of `promptfoo_corpus/` holds a `promptfooconfig.yaml` (with any prompt, test or var
files it names) and an `expect.yaml` saying what must come in, what must be named as dropped,
or why the whole file is refused. Every config that imports must also survive
import -> export --to promptfoo -> import with nothing lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_export_kit import endpoints, messages

from app.core.exports.promptfoo import CONFIG_FILE, export_promptfoo
from app.core.exports.promptfoo_import import ImportFailed, import_promptfoo
from app.core.prototype import Prototype

CORPUS = Path(__file__).with_name("promptfoo_corpus")
CONFIGS = sorted(p for p in CORPUS.iterdir() if (p / "expect.yaml").exists())


def _expect(folder: Path) -> dict[str, Any]:
    data = yaml.safe_load((folder / "expect.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_corpus_is_large_enough() -> None:
    assert len(CONFIGS) >= 30


@pytest.mark.parametrize("folder", CONFIGS, ids=[p.name for p in CONFIGS])
def test_import_keeps_what_the_author_wrote(folder: Path) -> None:
    expect = _expect(folder)
    config = folder / "promptfooconfig.yaml"
    if "refused" in expect:
        with pytest.raises(ImportFailed) as info:
            import_promptfoo(config, endpoints())
        assert expect["refused"] in str(info.value)
        return
    result = import_promptfoo(config, endpoints())
    proto = result.prototype
    for line in expect.get("dropped", []):
        assert any(line in d for d in result.dropped), f"not named: {line}\n" + "\n".join(result.dropped)
    if expect.get("dropped") == []:
        assert result.dropped == [], "\n".join(result.dropped)
    _check(proto, expect)


def _assertions(proto: Prototype) -> list[Any]:
    return [*proto.default_assert, *(a for c in proto.cases for a in c.assert_)]


def _check(proto: Prototype, expect: dict[str, Any]) -> None:
    if "profiles" in expect:
        assert [p.id for p in proto.profiles] == expect["profiles"]
    for pid, turns in expect.get("profile_turns", {}).items():
        assert [t.content for t in proto.profile(pid).turns] == turns
    for pid, name in expect.get("profile_names", {}).items():
        assert proto.profile(pid).name == name
    for pid, system in expect.get("system", {}).items():
        assert proto.profile(pid).system_prompt == system
    if "models" in expect:
        assert [[m.id, m.provider, m.model] for m in proto.models] == expect["models"]
    for mid, params in expect.get("params", {}).items():
        assert proto.model(mid).params.model_dump(exclude_none=True) == params
    for mid, url in expect.get("base_urls", {}).items():
        assert proto.model(mid).base_url == url
    for mid, env in expect.get("key_envs", {}).items():
        assert proto.model(mid).key_env == env
    assert len(proto.cases) == expect["cases"]
    if "case_turns" in expect:
        for case in proto.cases:
            assert [t.content for t in case.turns] == expect["case_turns"]
    if "case_vars" in expect:
        assert [c.vars for c in proto.cases] == expect["case_vars"]
    for wanted in expect.get("vars_include", []):
        assert any(wanted.items() <= c.vars.items() for c in proto.cases), f"no case has vars {wanted}"
    if "case_var_names" in expect:
        assert [sorted(c.vars) for c in proto.cases] == expect["case_var_names"]
    if "case_assert_types" in expect:
        assert [[a.type for a in c.assert_] for c in proto.cases] == expect["case_assert_types"]
    asserts = _assertions(proto)
    if "assert_types" in expect:
        assert [a.type for a in asserts] == expect["assert_types"]
    if "assert_values" in expect:
        assert [[a.type, a.value] for a in asserts] == expect["assert_values"]
    if "thresholds" in expect:
        assert [a.threshold for a in asserts] == expect["thresholds"]
    if "disabled" in expect:
        assert sum(a.disabled for a in asserts) == expect["disabled"]
    if "metrics" in expect:
        assert [a.metric for a in asserts if a.metric] == expect["metrics"]
    if "transforms" in expect:
        assert [a.transform for a in asserts if a.transform] == expect["transforms"]
    if "judges" in expect:
        assert [a.judge for a in asserts if a.type == "llm-rubric"] == expect["judges"]
    if "rubric_prompts" in expect:
        assert sum(a.rubric_prompt is not None for a in asserts) == expect["rubric_prompts"]
    if "no_text" in expect:
        assert expect["no_text"] not in proto.model_dump_json()


def _comparable(proto: Prototype) -> dict[str, Any]:
    return {
        "profiles": [(p.id, p.system_prompt, p.turns) for p in proto.profiles],
        "models": [(m.id, m.provider, m.model, m.base_url, m.params, m.key_env) for m in proto.models],
        "cases": [(c.id, c.vars, c.turns, c.assert_, c.threshold) for c in proto.cases],
        "default_assert": proto.default_assert,
    }


ROUND_TRIP = [
    p for p in CONFIGS
    if "refused" not in _expect(p) and _expect(p)["cases"] > 0 and _expect(p).get("models") != []
]
"""Configs that import with cases and model targets (the export needs both)."""


@pytest.mark.parametrize("folder", ROUND_TRIP, ids=[p.name for p in ROUND_TRIP])
def test_round_trip_through_promptfoo_loses_nothing(folder: Path, tmp_path: Path) -> None:
    first = import_promptfoo(folder / "promptfooconfig.yaml", endpoints()).prototype
    exported = export_promptfoo(first, messages, endpoints())
    path = tmp_path / CONFIG_FILE
    path.write_text(exported.files[CONFIG_FILE], encoding="utf-8")
    again = import_promptfoo(path, endpoints())
    assert _comparable(again.prototype) == _comparable(first)
