"""Saving writes runs with pydantic's own `model_dump(exclude_defaults=True)` (half the CPU of the
field-by-field walk): it must give exactly what the walk gives, for every shape a run can take."""

from __future__ import annotations

import random
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from app.core.document import _DUMPED_BY_PYDANTIC, ALWAYS_WRITTEN, _plain, _plain_model, load_prototype
from app.core.prototype import (
    ConversationEnd,
    ImageRef,
    Message,
    ModelParams,
    Rating,
    Run,
    ToolCall,
    Usage,
)

ROOT = Path(__file__).resolve().parents[2]


def _models_below(model: type[BaseModel]) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in found:
                found.add(annotation)
                for field in annotation.model_fields.values():
                    visit(field.annotation)
            return
        assert typing.get_origin(annotation) is not tuple, f"{model.__name__} holds a tuple: {annotation}"
        for arg in typing.get_args(annotation):
            visit(arg)
        if isinstance(annotation, types.UnionType):
            for arg in annotation.__args__:
                visit(arg)

    visit(model)
    return found


@pytest.mark.parametrize("model", sorted(_DUMPED_BY_PYDANTIC, key=lambda m: m.__name__))
def test_no_always_written_field_or_tuple_below_a_fast_dumped_model(model: type[BaseModel]) -> None:
    below = _models_below(model)
    assert Message in below or model is not Run  # the walk really descends
    assert not {owner for owner, _ in ALWAYS_WRITTEN} & below


def _full_run() -> Run:
    return Run(
        id="r2", created="2026-11-30T04:00:00Z", profile="p", model="m", case="c", sample=2, parent="r1",
        provider="openai", model_name="gpt", prompt=None,
        params=ModelParams(temperature=0.0, max_tokens=64, top_p=1.0, seed=0, stop=["\n\n"],
                           response_format={"type": "json_schema",
                                            "json_schema": {"name": "x", "schema": {}}}),
        messages=[Message(role="system", content=""), Message(role="user", content="hi",
                                                               images=[ImageRef(path="a.png")]),
                  Message(role="assistant", content="", tool_calls=[ToolCall(name="t", arguments="{}")]),
                  Message(role="tool", content="ok", tool_call_id="call_1")],
        output="", status="error", error="boom", finish_reason="length", usage=Usage(prompt_tokens=0),
        ttft_ms=0.0, latency_ms=1.5, cost_usd=0.0, cached=True,
        tool_calls=[ToolCall(id="call_1", name="t", arguments='{"a": [1, 2]}', result="ok")],
        notice="n", ratings=[Rating(rater="", thumb="up", note="", tags=["x"]), Rating()],
        user_turn="simulated", conversation_end=ConversationEnd(by="done", reason=""),
    )


def _runs() -> list[Run]:
    """The full run, the bare one, and 300 mixes: each field either as in the full run or left at its
    default (nested models too), so every field is seen set, unset and set to its default's value."""
    full, bare = _full_run(), Run(id="r", created="2026-11-30T04:00:00Z", profile="p", model="m", case="c")
    runs = [full, bare]
    rng = random.Random(7)
    for _ in range(300):
        data = full.model_dump(by_alias=True)
        plain = bare.model_dump(by_alias=True)
        mixed = {key: data[key] if rng.random() < 0.5 else plain[key] for key in data}
        for key in ("params", "usage"):
            mixed[key] = {k: v if rng.random() < 0.5 else None for k, v in data[key].items()}
        runs.append(Run.model_validate(mixed))
    for path in sorted((ROOT / "prototypes").glob("*.yaml")):
        runs += load_prototype(path).runs
    return runs


def test_pydantic_dumps_every_run_as_the_field_walk_does() -> None:
    runs = _runs()
    assert len(runs) > 300
    for run in runs:
        assert _plain(run) == _plain_model(run), run.id
        assert list(_plain(run)) == list(_plain_model(run)), run.id  # same key order: same file bytes
