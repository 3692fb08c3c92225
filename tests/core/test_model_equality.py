"""Our models' fast `__eq__` (`prototype.Strict`) agrees with pydantic's own on every pair tried."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import BaseModel

from app.core.document import load_prototype
from app.core.prototype import Message, ModelParams, Rating, Strict, Usage

from .conftest import EXAMPLES


def _models() -> list[Strict]:
    found: list[Strict] = [Usage(), Usage(prompt_tokens=1), Usage(completion_tokens=1), ModelParams(),
                           ModelParams(temperature=0.0), ModelParams(stop=["x"]), Rating(), Rating(rater="a"),
                           Message(role="user", content="hi"), Message(role="user", content="hi")]
    for path in EXAMPLES:
        proto = load_prototype(path)
        for run in proto.runs[:20]:
            found += [run, run.usage, run.params, *run.messages, *run.ratings]
        found += [*proto.profiles, *proto.models, *proto.cases]
    return found


def test_fast_equality_agrees_with_pydantic() -> None:
    models = _models()
    assert len(models) > 50
    pairs: list[tuple[Any, Any]] = list(itertools.combinations(models, 2))
    pairs += [(m, m.model_copy(deep=True)) for m in models]
    pairs += [(m, 1) for m in models[:5]] + [(Usage(), ModelParams())]
    differ = 0
    for a, b in pairs:
        reference = BaseModel.__eq__(a, b)
        if reference is NotImplemented:  # then Python falls back to identity
            reference = a is b
        assert (a == b) == reference, (a, b)
        differ += a != b
    assert differ > 0 and differ < len(pairs), "both outcomes must occur for the comparison to mean anything"
