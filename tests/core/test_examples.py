"""The example prototypes load, run offline on the bundled model, and use the features they show off."""

from __future__ import annotations

import re
from pathlib import Path

from app.core.document import load_prototype

from .conftest import EXAMPLES

EXPECTED = {"cat-persona.yaml", "social-pleasantry.yaml", "refusal-tone.yaml", "instruction-following.yaml",
            "canvas-trigger.yaml"}


def test_all_five_examples_exist() -> None:
    assert {p.name for p in EXAMPLES} >= EXPECTED


def test_example_loads_and_has_the_local_target_first(example_path: Path) -> None:
    proto = load_prototype(example_path)
    local = proto.models[0]
    assert (local.id, local.provider, local.model) == ("local", "local", "smollm2-135m-instruct")
    assert local.params.temperature == 0.7 and local.params.max_tokens == 256
    assert proto.runs == [] and proto.preferences == []
    assert proto.profiles and proto.cases
    for case in proto.cases:
        assert case.assert_ or proto.default_assert, f"{case.id} has no assertions"


def test_every_template_var_is_defined(example_path: Path) -> None:
    proto = load_prototype(example_path)
    for case in proto.cases:
        texts = [t.content for t in case.turns] + [str(a.value) for a in case.assert_]
        for profile in proto.profiles:
            used = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", "\n".join([*texts, profile.system_prompt])))
            missing = used - set(case.vars)
            assert not missing, f"{example_path.name}: {case.id} x {profile.id} misses {missing}"


def test_cat_persona_spans_the_spectrum_and_asks_a_task_mid_role_play() -> None:
    proto = load_prototype(next(p for p in EXAMPLES if p.name == "cat-persona.yaml"))
    assert len(proto.profiles) >= 4
    assert proto.profiles[0].id == "light-touch" and proto.profiles[-1].id == "only-meows"
    assert any("How are you doing?" in t.content for c in proto.cases for t in c.turns)
    assert any(len(c.turns) >= 3 and c.turns[1].role == "assistant" for c in proto.cases)


def test_canvas_trigger_uses_the_canvas_form_factor() -> None:
    proto = load_prototype(next(p for p in EXAMPLES if p.name == "canvas-trigger.yaml"))
    assert {p.form_factor for p in proto.profiles} == {"canvas", "chat"}


def test_instruction_following_counts_bullets() -> None:
    proto = load_prototype(next(p for p in EXAMPLES if p.name == "instruction-following.yaml"))
    counts = [a.value for c in proto.cases for a in c.assert_ if a.type == "bullet-count"]
    assert counts.count(3) >= 3
