"""latency, cost, transforms, custom rubric prompts and disabled checks: the fields an import keeps."""

from __future__ import annotations

import asyncio

import pytest

from app.core.evals.assertions import (
    AssertionSpecError,
    Graders,
    RunMetrics,
    check_assertion,
    grade,
    grade_case,
)
from app.core.evals.validation import assertion_problems
from app.core.prototype import Assertion, Case, Message, Prototype, Turn


def _grade(assertion: Assertion, output: str = "out", **kw: object) -> tuple[bool, str]:
    result = asyncio.run(grade(assertion, output, **kw))  # type: ignore[arg-type]
    return result.passed, result.reason


def test_latency_and_cost_read_the_run() -> None:
    fast = RunMetrics(latency_ms=120.0, cost_usd=0.0004)
    slow = RunMetrics(latency_ms=4000.0, cost_usd=0.01)
    assert _grade(Assertion(type="latency", value=1000), metrics=fast)[0]
    assert not _grade(Assertion(type="latency", value=1000), metrics=slow)[0]
    assert _grade(Assertion(type="cost", value=0.001), metrics=fast)[0]
    passed, reason = _grade(Assertion(type="cost", value=0.001), metrics=RunMetrics(latency_ms=1.0))
    assert not passed and "cost unknown" in reason
    with pytest.raises(AssertionSpecError, match="number of 0 or more"):
        check_assertion(Assertion(type="latency", value="fast"))


def test_known_transforms_apply_and_unknown_ones_are_refused() -> None:
    assert _grade(Assertion(type="equals", value="yes", transform="output.toLowerCase()"), "YES")[0]
    assert not _grade(Assertion(type="equals", value="yes"), "YES")[0]
    assert _grade(
        Assertion(type="equals", value='{"a":1}', transform="JSON.stringify(JSON.parse(output))"),
        '{ "a" : 1 }',
    )[0]
    with pytest.raises(AssertionSpecError, match="unknown transform"):
        check_assertion(Assertion(type="contains", value="a", transform="output.split('x')[0]"))


def test_a_custom_rubric_prompt_is_what_the_judge_gets() -> None:
    seen: list[list[Message]] = []

    async def judge(judge_id: str | None, messages: list[Message]) -> str:
        seen.append(messages)
        return '{"pass": true, "reason": "ok"}'

    template = (
        '[{"role": "system", "content": "Strict."}, {"role": "user", "content": "O={{output}} R={{rubric}}"}]'
    )
    assertion = Assertion(type="llm-rubric", value="is kind", rubric_prompt=template)
    assert _grade(assertion, "hello", graders=Graders(judge=judge))[0]
    assert [(m.role, m.content) for m in seen[0]] == [("system", "Strict."), ("user", "O=hello R=is kind")]


def test_disabled_checks_are_kept_but_never_graded_or_flagged() -> None:
    disabled = Assertion(type="javascript", value="output.length > 1000", disabled=True)
    graded = asyncio.run(
        grade_case([("assert[0]", disabled), ("assert[1]", Assertion(type="contains", value="o"))], "out")
    )
    assert graded.passed and [r.key for r in graded.results] == ["assert[1]"]
    proto = Prototype(name="p", cases=[Case(id="c", turns=[Turn(content="hi")], assert_=[disabled])])
    assert assertion_problems(proto) == []
