"""Pass rates, discrimination against the baseline, regression detection, and the report formats."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from app.core.document import parse_prototype
from app.core.evals.report import format_table, junit_xml, results_json
from app.core.evals.summary import find_regressions, previous_run, shared_cells, summarize
from app.core.prototype import AssertionResult, EvalResult, EvalRun, Prototype

PROTO = parse_prototype("""\
name: s
profiles: [{id: p}]
models: [{id: m, provider: vllm, model: x}]
cases:
  - id: a
    turns: [{content: hi}]
    assert: [{type: contains, value: hello}]
  - id: b
    turns: [{content: hi}]
default_assert: [{type: max-words, value: 5}]
""")


def result(
    case: str, passed: dict[str, bool], *, baseline: bool = False, error: str | None = None
) -> EvalResult:
    items = [
        AssertionResult(
            type=key.split("[")[0], passed=ok, score=float(ok), reason="ok" if ok else "bad", key=key
        )
        for key, ok in passed.items()
    ]
    return EvalResult(
        case=case,
        profile="p",
        model="m",
        baseline=baseline,
        passed=all(passed.values()) and error is None,
        score=1.0,
        assertions=items,
        error=error,
    )


def eval_run(ident: str, *results: EvalResult) -> EvalRun:
    return EvalRun(id=ident, created="2026-11-22T06:00:00Z", pass_rate=0.0, results=list(results))


D, A = "default_assert[0]", "assert[0]"


def test_pass_rates_per_variant_and_assertion() -> None:
    run = eval_run("e1", result("a", {D: True, A: False}), result("b", {D: True}))
    summary = summarize(PROTO, run)
    assert summary.pass_rate == 0.5
    assert summary.variants[0].tally.passed == 1 and summary.variants[0].tally.total == 2
    stats = {s.ident: s for s in summary.assertions}
    assert stats[D].tally.total == 2 and stats[D].label == "max-words 5 (all cases)"
    assert stats["a.assert[0]"].label == 'a: contains "hello"'
    assert summary.failures[0].reasons == ["assert: bad"]
    assert not summary.has_baseline


def test_discrimination_counts_baseline_fails_where_the_prototype_passes() -> None:
    run = eval_run(
        "e1",
        result("a", {D: True, A: True}),
        result("b", {D: True}),
        result("a", {D: True, A: False}, baseline=True),
        result("b", {D: True}, baseline=True),
    )
    summary = summarize(PROTO, run)
    stats = {s.ident: s for s in summary.assertions}
    assert stats["a.assert[0]"].discrimination == 1.0 and not stats["a.assert[0]"].not_discriminating
    assert stats[D].discrimination == 0.0 and stats[D].not_discriminating
    assert summary.baseline_pass_rate == 0.5
    assert summary.variants[0].baseline.passed == 1
    table = format_table(run, summary)
    assert "not discriminating" in table and "discrimination" in table


def test_discrimination_is_over_the_pairs_the_prototype_passes() -> None:
    """Two variants: one passes `contains`, one fails it; the baseline fails both. The baseline fails
    every time the prototype passes, so the assertion discriminates fully (it was reported as 50%,
    diluted by the variant that fails the check)."""
    other = result("a", {A: False, D: True}).model_copy(update={"profile": "q"})
    other_base = result("a", {A: False, D: True}, baseline=True).model_copy(update={"profile": "q"})
    run = eval_run(
        "e1",
        result("a", {A: True, D: True}),
        other,
        result("a", {A: False, D: True}, baseline=True),
        other_base,
    )
    stats = {s.ident: s for s in summarize(PROTO, run).assertions}
    assert stats["a.assert[0]"].discrimination == 1.0
    assert not stats["a.assert[0]"].not_discriminating
    assert stats[D].discrimination == 0.0 and stats[D].not_discriminating


def test_a_check_the_prototype_never_passes_is_not_called_not_discriminating() -> None:
    """The baseline passing where the prototype fails is not "the baseline passes as well"."""
    run = eval_run("e1", result("a", {A: False}), result("a", {A: True}, baseline=True))
    stat = summarize(PROTO, run).assertions[0]
    assert stat.paired == 1 and stat.discrimination is None and not stat.not_discriminating


def test_a_baseline_that_errored_is_not_paired() -> None:
    run = eval_run("e1", result("a", {A: True}), result("a", {}, baseline=True, error="boom"))
    stat = summarize(PROTO, run).assertions[0]
    assert stat.paired == 0 and stat.discrimination is None and not stat.not_discriminating


def test_regressions_name_each_case_that_passed_before_and_fails_now() -> None:
    before = eval_run("e1", result("a", {A: True}), result("b", {D: True}))
    now = eval_run(
        "e2", result("a", {A: False}), result("b", {D: True}), result("a", {A: False}, baseline=True)
    )
    found = find_regressions(before, now)
    assert [(r.case, r.before) for r in found] == [("a", "e1")]
    assert str(found[0]) == "regression: case 'a' on p × m passed in e1, now: assert: bad"
    assert find_regressions(now, before) == []  # fixing a case is not a regression
    new_case = eval_run("e3", result("a", {A: True}), result("b", {D: False}))
    assert [r.case for r in find_regressions(eval_run("e0", result("a", {A: True})), new_case)] == []


def test_previous_run_lookup() -> None:
    proto = PROTO.model_copy(deep=True)
    proto.evals = [eval_run("e1"), eval_run("e2")]
    assert previous_run(proto, "last").id == "e2"
    assert previous_run(proto, "last", exclude="e2").id == "e1"
    assert previous_run(proto, "e1").id == "e1"
    with pytest.raises(KeyError, match="no eval run with id 'e9'"):
        previous_run(proto, "e9")
    with pytest.raises(KeyError, match="no earlier eval run"):
        previous_run(Prototype(name="x"), "last")


def test_junit_and_json_shapes() -> None:
    run = eval_run(
        "e1",
        result("a", {A: False}),
        result("b", {D: True}),
        result("a", {}, error="rate limited"),
    )
    root = ET.fromstring(junit_xml(run, summarize(PROTO, run), "suite & co"))
    assert root.tag == "testsuites" and root.get("name") == "suite & co"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "3"
    assert root.find(".//failure") is not None and root.find(".//error") is not None
    data = json.loads(json.dumps(results_json(run, summarize(PROTO, run))))
    assert data["eval"]["id"] == "e1" and data["failures"][1]["reasons"] == [
        "the model call failed: rate limited"
    ]


def test_last_is_the_newest_run_over_the_same_cells() -> None:
    """Alternating `--profile` runs: `last` for p skips the newer run that graded only q."""
    over_p = eval_run("e1", result("a", {A: True}))
    over_q = eval_run("e2", result("a", {A: True}).model_copy(update={"profile": "q"}))
    proto = PROTO.model_copy(update={"evals": [over_p, over_q]})
    assert previous_run(proto, "last", cells=[("a", "p", "m")]).id == "e1"
    assert previous_run(proto, "last", cells=[("a", "q", "m")]).id == "e2"
    assert previous_run(proto, "last", cells=[("zzz", "p", "m")]).id == "e2"  # none overlap: the newest
    assert previous_run(proto, "last").id == "e2"
    assert shared_cells(over_p, over_q) == 0 and shared_cells(over_p, over_p) == 1
