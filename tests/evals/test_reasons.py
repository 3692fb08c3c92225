from __future__ import annotations

from app.core.evals.reasons import ReasonRow, reason_rows, variant_name
from app.core.prototype import (
    Assertion,
    AssertionResult,
    Case,
    EvalResult,
    EvalRun,
    ModelTarget,
    Profile,
    Prototype,
    Turn,
)


def _proto() -> Prototype:
    return Prototype(
        name="t",
        profiles=[Profile(id="p1", name="Grumpy cat", system_prompt="x")],
        models=[ModelTarget(id="model-copy", provider="vllm", model="m", name="Fast model")],
        cases=[Case(id="c1", description="Asks for food", turns=[Turn(content="hi")])],
        default_assert=[Assertion(type="contains", value="meow")],
    )


def test_rows_use_names_and_one_row_per_failed_check() -> None:
    proto = _proto()
    run = EvalRun(id="e1", created="2026-01-01T00:00:00Z", pass_rate=0.0, results=[
        EvalResult(case="c1", profile="p1", model="model-copy", passed=False, score=0.0, assertions=[
            AssertionResult(
                type="contains", passed=False, score=0, reason="no 'meow'", key="default_assert[0]"
            ),
            AssertionResult(type="max-words", passed=True, score=1, key="default_assert[1]"),
        ]),
        EvalResult(case="c1", profile="p1", model="model-copy", baseline=True, passed=False, score=0,
                   error="timeout"),
    ])
    rows = reason_rows(proto, run)
    assert rows[0] == ReasonRow("Asks for food", "Grumpy cat × Fast model", rows[0].check, "no 'meow'")
    assert "contains" in rows[0].check and "model-copy" not in rows[0].variant
    assert rows[1].variant == "baseline × Fast model" and rows[1].reason == "timeout"
    assert len(rows) == 2
    assert rows[0].matches("grumpy MEOW") and not rows[0].matches("timeout")
    assert variant_name(proto, "gone", "model-copy") == "gone × Fast model"


def test_a_cases_own_check_reads_without_the_case_id_the_row_already_names_the_case() -> None:
    proto = _proto()
    proto.cases[0].assert_ = [Assertion(type="not-icontains", value="AI assistant")]
    run = EvalRun(id="e1", created="2026-01-01T00:00:00Z", pass_rate=0.0, results=[
        EvalResult(case="c1", profile="p1", model="model-copy", passed=False, score=0.0, assertions=[
            AssertionResult(type="not-icontains", passed=False, score=0, reason="says it", key="assert[0]"),
            AssertionResult(type="contains", passed=False, score=0, reason="no", key="default_assert[0]"),
        ]),
    ])
    own, shared = reason_rows(proto, run)
    assert own.case == "Asks for food"
    assert own.check.startswith("not-icontains") and "c1" not in own.check
    assert shared.check.endswith("(all cases)")


def test_the_baselines_failures_come_after_the_profiles_and_once_per_case_and_model() -> None:
    proto = _proto()
    proto.profiles.append(Profile(id="p2", name="Sleepy cat", system_prompt="y"))
    failed = AssertionResult(type="contains", passed=False, score=0, reason="no", key="default_assert[0]")

    def result(profile: str, *, baseline: bool) -> EvalResult:
        return EvalResult(case="c1", profile=profile, model="model-copy", baseline=baseline, passed=False,
                          score=0.0, assertions=[failed])

    run = EvalRun(id="e1", created="2026-01-01T00:00:00Z", pass_rate=0.0, results=[
        result("p1", baseline=True), result("p1", baseline=False),
        result("p2", baseline=True), result("p2", baseline=False),
    ])
    rows = reason_rows(proto, run)
    assert [row.variant for row in rows] == [
        "Grumpy cat × Fast model", "Sleepy cat × Fast model", "baseline × Fast model"]
