"""Every assertion type, true and false, negated, and combined with weights and thresholds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.core.evals.assertions import (
    TYPES,
    AssertionSpecError,
    Graders,
    GradingError,
    check_assertion,
    combine,
    grade,
    grade_case,
    split_type,
)
from app.core.prototype import Assertion, AssertionResult


def run_grade(
    type_: str, value: Any, output: str, graders: Graders | None = None, **kw: Any
) -> AssertionResult:
    return asyncio.run(grade(Assertion(type=type_, value=value, **kw), output, graders or Graders()))


CASES: list[tuple[str, Any, str, str]] = [
    # type, value, passing output, failing output
    ("equals", "Paris", "  Paris\n", "Paris, France"),
    ("contains", "refund", "We refund you.", "We Refund you."),
    ("icontains", "refund", "We REFUND you.", "No money back."),
    ("contains-any", ["cat", "dog"], "a dog", "a bird"),
    ("contains-all", ["cat", "dog"], "cat and dog", "just a cat"),
    ("icontains-any", ["CAT", "dog"], "a Cat", "a bird"),
    ("icontains-all", ["cat", "DOG"], "Cat and Dog", "just a cat"),
    ("starts-with", "Sure", "  Sure, here it is", "Here it is. Sure"),
    ("regex", r"\b\d{3}-\d{4}\b", "call 555-1234 now", "call 5551234 now"),
    ("is-json", None, '{"a": 1}', "{'a': 1}"),
    ("is-json", {"type": "object", "required": ["name"]}, '{"name": "x"}', '{"nom": "x"}'),
    ("max-words", 3, "one two three", "one two three four"),
    ("min-words", 3, "one two three", "one two"),
    ("max-chars", 5, "hello", "hello!"),
    ("bullet-count", 3, "Intro\n- a\n- b\n* c", "- a\n- b\n- c\n- d"),
    ("no-markdown", None, "Plain words, spoken aloud. Costs 5 * 3 dollars.", "## Title\nText"),
    ("is-refusal", None, "I'm sorry, but I can't help with that.", "Sure! Here is the recipe."),
    ("voice-friendly", None, "Sure. Your table is booked for eight tonight.", "Your table:\n- eight tonight"),
    ("voice-friendly", 5, "Booked for eight tonight.", "word " * 20),
    ("voice-friendly", None, "Booked. Details are on our site.", "Booked, see https://example.com/b."),
    ("fits-notification", None, "Your order shipped.", "Your order shipped. " * 10),
    (
        "fits-notification",
        {"phrase": "arrives Friday", "platform": "android-collapsed"},
        "Your order arrives Friday; track it in the app for the details.",
        "Your order has shipped from our warehouse and arrives Friday.",
    ),
    ("canvas-opened", None, "[canvas: Cover letter]\nDear team,", "Here it is. [canvas: Cover letter]"),
    ("canvas-opened", "cover", "[canvas: Cover letter]\nDear team,", "[canvas: Launch blog post]\nToday"),
]


def test_every_type_is_covered() -> None:
    covered = {c[0] for c in CASES} | {"similar", "llm-rubric", "latency", "cost"}
    covered |= {"tool-call", "no-tool-call", "valid-tool-call"}  # tests/evals/test_tool_assertions.py
    assert covered == set(TYPES)


@pytest.mark.parametrize(
    ("type_", "value", "good", "bad"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_type_passes_and_fails(type_: str, value: Any, good: str, bad: str) -> None:
    ok = run_grade(type_, value, good)
    assert ok.passed, ok.reason
    assert ok.score == 1.0
    ko = run_grade(type_, value, bad)
    assert not ko.passed
    assert ko.score == 0.0
    assert "expected" in ko.reason
    assert "\n" not in ko.reason


@pytest.mark.parametrize(
    ("type_", "value", "good", "bad"), CASES, ids=[f"not-{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_not_prefix_flips_every_type(type_: str, value: Any, good: str, bad: str) -> None:
    assert not run_grade(f"not-{type_}", value, good).passed
    flipped = run_grade(f"not-{type_}", value, bad)
    assert flipped.passed
    assert flipped.score == 1.0


def test_reasons_read_like_sentences() -> None:
    assert (
        run_grade("bullet-count", 3, "- a\n- b\n- c\n- d").reason == "has 4 bullet points, expected exactly 3"
    )
    assert run_grade("max-words", 2, "one two three").reason == "has 3 words, expected at most 2"
    assert run_grade("not-contains", "sorry", "so sorry").reason == (
        'contains "sorry", expected not to contain "sorry"'
    )
    assert "list items (2), bold text (1)" in run_grade("no-markdown", None, "**Hi**\n- a\n- b").reason
    assert "'name' is a required property" in run_grade("is-json", {"required": ["name"]}, "{}").reason
    fenced = run_grade("is-json", None, '```json\n{"a": 1}\n```')
    assert fenced.passed and "fence" in fenced.reason


def test_refusal_heuristic_details() -> None:
    assert run_grade("is-refusal", None, "").passed  # empty output counts as a refusal
    assert run_grade("is-refusal", None, "I\u2019m unable to do that.").passed  # curly apostrophe
    assert not run_grade("is-refusal", None, "I can help with that!").passed


def test_markdown_heuristic_ignores_plain_arithmetic_and_snake_case() -> None:
    assert run_grade("no-markdown", None, "5 * 3 is 15, and my_var_name is fine.").passed
    for marked in ("Use `code`", "[link](http://x.y)", "> quoted", "| a | b |\n|---|---|", "1. first"):
        assert not run_grade("no-markdown", None, marked).passed, marked


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(AssertionSpecError) as info:
        split_type("not-contians")
    message = str(info.value)
    assert "did you mean 'not-contains'" in message
    assert "bullet-count" in message and "llm-rubric" in message
    result = run_grade("contians", "x", "x")
    assert not result.passed and "unknown assertion type" in result.reason


@pytest.mark.parametrize(
    ("type_", "value", "needle"),
    [
        ("max-words", "ten", "whole number"),
        ("bullet-count", -1, "whole number"),
        ("contains", None, "non-empty text"),
        ("contains", "", "non-empty text"),
        ("contains-any", [], "list of non-empty texts"),
        ("regex", "([a-z", "invalid regular expression"),
        ("is-json", {"type": "no-such-type"}, "invalid JSON Schema"),
        ("no-markdown", "x", "takes no value"),
    ],
)
def test_bad_values_are_clear_errors(type_: str, value: Any, needle: str) -> None:
    with pytest.raises(AssertionSpecError, match=needle):
        check_assertion(Assertion(type=type_, value=value))


def test_threshold_out_of_range_is_an_error() -> None:
    with pytest.raises(AssertionSpecError, match="between 0 and 1"):
        check_assertion(Assertion(type="similar", value="x", threshold=3))


# -- weights and thresholds -------------------------------------------------------------------------


def _results(*passed: bool) -> list[AssertionResult]:
    return [AssertionResult(type="contains", passed=p, score=float(p)) for p in passed]


def test_default_case_rule_is_all_must_pass() -> None:
    assert combine(_results(True, True), [1, 1], None).passed
    graded = combine(_results(True, False), [3, 1], None)
    assert not graded.passed
    assert graded.score == 0.75


def test_case_threshold_uses_the_weighted_score() -> None:
    assert combine(_results(True, False), [3, 1], 0.7).passed
    assert not combine(_results(True, False), [1, 3], 0.7).passed
    assert combine(_results(True, False), [1, 1], 0.5).passed  # exactly at the threshold passes


def test_weight_zero_is_informational() -> None:
    graded = combine(_results(True, False), [1, 0], None)
    assert graded.passed and graded.score == 1.0


def test_grade_case_keeps_keys_and_order() -> None:
    keyed = [
        ("default_assert[0]", Assertion(type="contains", value="a")),
        ("assert[0]", Assertion(type="max-words", value=1, weight=2)),
    ]
    graded = asyncio.run(grade_case(keyed, "a b", threshold=0.3))
    assert [r.key for r in graded.results] == ["default_assert[0]", "assert[0]"]
    assert graded.passed and graded.score == pytest.approx(1 / 3, abs=1e-3)


# -- model-backed types with injected helpers ----------------------------------------------------------


def _embedder(table: dict[str, list[float]]) -> Any:
    async def embed(texts: Any) -> list[list[float]]:
        return [table[t] for t in texts]

    return embed


def test_similar_uses_cosine_and_threshold() -> None:
    graders = Graders(embed=_embedder({"out": [1, 0], "near": [0.9, 0.1], "far": [0, 1]}))
    near = run_grade("similar", "near", "out", graders)
    assert near.passed and near.score > 0.9 and "similarity 0.99" in near.reason
    far = run_grade("similar", "far", "out", graders)
    assert not far.passed and far.reason == "similarity 0.00 to the reference, expected at least 0.80"
    assert run_grade("similar", ["far", "near"], "out", graders).passed  # closest of several references
    assert not run_grade("similar", "near", "out", graders, threshold=0.999).passed
    negated = run_grade("not-similar", "far", "out", graders)
    assert negated.passed and negated.score == 1.0


def test_model_backed_types_fail_clearly_without_a_model() -> None:
    assert "no embedding model" in run_grade("similar", "x", "y").reason
    assert "no judge model" in run_grade("llm-rubric", "be kind", "y").reason

    async def broken(texts: Any) -> list[list[float]]:
        raise GradingError("endpoint unreachable")

    result = run_grade("similar", "x", "y", Graders(embed=broken))
    assert not result.passed and result.reason == "endpoint unreachable"


def test_rubric_with_injected_judge_sees_rubric_and_output() -> None:
    seen: list[Any] = []

    async def judge(judge_id: str | None, messages: Any) -> str:
        seen.append((judge_id, messages))
        return 'Sure. {"pass": false, "reason": "It lists four items."}'

    result = asyncio.run(
        grade(
            Assertion(type="llm-rubric", value="Exactly three items", judge="j1"),
            "1 2 3 4",
            Graders(judge=judge),
            prompt="List three",
        )
    )
    assert not result.passed
    assert result.reason == "judge: It lists four items., expected the rubric to pass"
    judge_id, messages = seen[0]
    assert judge_id == "j1"
    assert "Exactly three items" in messages[-1].content and "1 2 3 4" in messages[-1].content
    assert "List three" in messages[-1].content
    negated = asyncio.run(grade(Assertion(type="not-llm-rubric", value="x"), "y", Graders(judge=judge)))
    assert negated.passed
