"""Agreement statistics against hand-computed textbook examples, degenerate cases, and on documents."""

from __future__ import annotations

import pytest

from app.core.agreement import (
    binomial_two_sided,
    check_agreement,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    position_bias,
    rater_agreement,
    reading,
)
from app.core.prototype import (
    AssertionResult,
    Case,
    EvalResult,
    EvalRun,
    Preference,
    Prototype,
    Rating,
    Run,
    Turn,
)

# -- Cohen --------------------------------------------------------------------------------------------


def test_cohen_kappa_wikipedia_example() -> None:
    """50 proposals: both yes 20, A yes/B no 5, A no/B yes 10, both no 15. p_o = .7, p_e = .5, kappa = .4."""
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)


def test_cohen_kappa_hand_computed_three_categories() -> None:
    """Two raters, 10 items, 7 agree: p_o = .7; marginals A (4,3,3), B (5,3,2): p_e = .35; kappa = .35/.65."""
    pairs = [("a", "a")] * 3 + [("b", "b")] * 2 + [("c", "c")] * 2 + [("a", "b"), ("b", "a"), ("c", "a")]
    assert cohen_kappa(pairs) == pytest.approx((0.7 - 0.35) / (1 - 0.35))


def test_cohen_kappa_degenerate_cases() -> None:
    assert cohen_kappa([]) is None
    assert cohen_kappa([("up", "up"), ("down", "down")]) == pytest.approx(1.0)  # all agree, both used
    assert cohen_kappa([("up", "up")] * 5) is None  # one category only: chance agreement is already 1
    assert cohen_kappa([("up", "down"), ("down", "up")]) == pytest.approx(-1.0)
    assert cohen_kappa([("up", "up"), ("up", "down")]) == pytest.approx(0.0)  # B varies, A does not


# -- Fleiss -------------------------------------------------------------------------------------------

WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_wikipedia_example() -> None:
    """10 subjects, 14 raters, 5 categories: P-bar = .378, P_e = .213, kappa = .210."""
    assert fleiss_kappa(WIKIPEDIA_FLEISS) == pytest.approx(0.20993, abs=5e-5)


def test_fleiss_kappa_degenerate_and_invalid() -> None:
    assert fleiss_kappa([[3, 0], [0, 3]]) == pytest.approx(1.0)
    assert fleiss_kappa([[3, 0], [3, 0]]) is None  # one category only
    assert fleiss_kappa([]) is None
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[2, 1], [1, 1]])


def test_fleiss_equals_cohen_style_agreement_direction() -> None:
    """Two raters who always disagree on two categories: kappa is -1 by both measures."""
    assert fleiss_kappa([[1, 1]] * 4) == pytest.approx(-1.0)


# -- Krippendorff -------------------------------------------------------------------------------------


def test_krippendorff_alpha_nominal_example_with_missing_values() -> None:
    """Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 x 12 units, nominal: .743."""
    observers = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [[o[u] for o in observers if o[u] is not None] for u in range(12)]
    assert krippendorff_alpha(units) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_degenerate_cases() -> None:
    assert krippendorff_alpha([]) is None
    assert krippendorff_alpha([["up"], ["down"]]) is None  # nothing pairable
    assert krippendorff_alpha([["up", "up"], ["down", "down", "down"]]) == pytest.approx(1.0)
    assert krippendorff_alpha([["up", "up", "up"], ["up", "up"]]) is None  # one value only


def test_alpha_on_the_cohen_example_by_hand() -> None:
    """100 values (y 55, n 45), 30 disagreeing ordered pairs: alpha = 1 - 99 * 30 / (2 * 55 * 45) = 0.4."""
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert krippendorff_alpha([list(p) for p in pairs]) == pytest.approx(1 - 99 * 30 / (2 * 55 * 45))


def test_readings() -> None:
    assert [reading(v) for v in (None, -0.1, 0.1, 0.3, 0.5, 0.7, 0.9)] == [
        "not defined", "worse than chance", "slight agreement", "fair agreement", "moderate agreement",
        "substantial agreement", "almost perfect agreement",
    ]


# -- on documents -------------------------------------------------------------------------------------


def doc(n_runs: int) -> Prototype:
    return Prototype(
        name="t",
        cases=[Case(id="c", turns=[Turn(content="hi")])],
        runs=[Run(id=f"r{i}", created="2026-01-01T00:00:00Z", profile="p", model="m", case="c", output="x")
              for i in range(n_runs)],
    )


def test_rater_agreement_on_thumbs_uses_only_shared_answers() -> None:
    proto = doc(6)
    ana = ["up", "up", "down", "down", "up", None]
    bo = ["up", "down", "down", "down", None, "up"]
    for run, a, b in zip(proto.runs, ana, bo, strict=True):
        run.ratings = [Rating(rater="ana", thumb=a), Rating(rater="bo", thumb=b)]  # type: ignore[arg-type]
    [result] = rater_agreement(proto)
    assert (result.kind, result.raters, result.shared) == ("thumbs", ("ana", "bo"), 4)
    assert result.value == pytest.approx(cohen_kappa([("up", "up"), ("up", "down"), ("down", "down"),
                                                       ("down", "down")]))
    assert result.summary == "moderate agreement, 4 shared answers (Cohen's kappa 0.50)"


def test_three_raters_get_alpha_and_every_pair_and_votes_are_compared_by_run_pair() -> None:
    proto = doc(3)
    for run in proto.runs:
        run.ratings = [Rating(rater=name, thumb="up") for name in ("ana", "bo", "")]
    proto.preferences = [
        Preference(id="v1", created="1", rater="ana", a="r0", b="r1", verdict="a"),
        Preference(id="v2", created="2", rater="bo", a="r1", b="r0", verdict="b"),  # same judgement, swapped
    ]
    results = rater_agreement(proto)
    assert [(r.kind, r.method, r.raters) for r in results] == [
        ("thumbs", "Krippendorff's alpha", ("ana", "bo", "unknown")),
        ("thumbs", "Cohen's kappa", ("ana", "bo")),
        ("thumbs", "Cohen's kappa", ("ana", "unknown")),
        ("thumbs", "Cohen's kappa", ("bo", "unknown")),
        ("votes", "Cohen's kappa", ("ana", "bo")),
    ]
    assert results[0].value is None and "everyone gave the same label" in results[0].summary
    assert results[-1].shared == 1


def test_check_agreement_builds_the_two_by_two_table_and_flags_a_disagreeing_check() -> None:
    proto = doc(6)
    thumbs = ["up", "up", "up", "down", "down", "down"]
    passed = [False, False, True, True, True, False]
    for run, thumb in zip(proto.runs, thumbs, strict=True):
        run.ratings = [Rating(rater="ana", thumb=thumb)]  # type: ignore[arg-type]
    proto.evals = [EvalRun(id="e1", created="2026-01-02T00:00:00Z", pass_rate=0.5, results=[
        EvalResult(case="c", profile="p", model="m", run=run.id, passed=ok, score=float(ok), assertions=[
            AssertionResult(type="llm-rubric", passed=ok, score=float(ok), key="assert[0]"),
            AssertionResult(type="contains", passed=True, score=1.0, key="assert[1]"),
        ]) for run, ok in zip(proto.runs, passed, strict=True)
    ])]
    [check] = check_agreement(proto)  # `contains` is not model-graded
    assert (check.key, check.type) == ("c: assert[0]", "llm-rubric")
    assert (check.pass_up, check.pass_down, check.fail_up, check.fail_down) == (1, 2, 2, 1)
    assert check.value == pytest.approx(-1 / 3)
    assert check.flagged and "disagrees with the team" in check.summary


def test_position_bias_counts_the_side_shown_on_the_left() -> None:
    proto = doc(2)
    prefs = [Preference(id=f"v{i}", created="1", rater="ana", a="r0", b="r1", verdict="a", blind=True,
                        swapped=i % 2 == 1) for i in range(10)]  # `a` won; it was on the left half the time
    prefs += [Preference(id=f"w{i}", created="1", rater="bo", a="r0", b="r1", verdict="b", blind=True)
              for i in range(10)]  # always the right side
    prefs.append(Preference(id="x", created="1", rater="bo", a="r0", b="r1", verdict="a", blind=False))
    prefs.append(Preference(id="old", created="1", a="r0", b="r1", verdict="a", blind=True))  # no side known
    proto.preferences = prefs
    ana, bo = position_bias(proto)
    assert (ana.rater, ana.left, ana.decisive, ana.biased) == ("ana", 5, 10, False)
    assert (bo.rater, bo.left, bo.decisive, bo.biased) == ("bo", 0, 10, True)
    assert "far from one half" in bo.summary


def test_binomial_two_sided() -> None:
    assert binomial_two_sided(5, 10) == pytest.approx(1.0)
    assert binomial_two_sided(0, 10) == pytest.approx(2 / 1024)
    assert binomial_two_sided(8, 10) == pytest.approx(2 * (45 + 10 + 1) / 1024)
