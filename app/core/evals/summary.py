"""What an eval run says: pass rates per variant and per assertion, baseline discrimination, regressions.

Discrimination of an assertion = how often the prompted baseline fails it where the prototype
passes it: among the (case, variant) pairs the prototype passes, the share the baseline fails.
(Pairs the prototype fails say nothing about the baseline, so they do not dilute it: a profile
that misses a check is a failing prototype, not a weak check.) An assertion the prototype passes
somewhere and the baseline passes as well wherever it does is flagged *not discriminating*: it
does not measure what the profile adds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.core.evals.assertions import describe
from app.core.prototype import Assertion, EvalResult, EvalRun, Prototype

DEFAULT_PREFIX = "default_assert["


@dataclass
class Tally:
    passed: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.passed += int(ok)
        self.total += 1

    @property
    def rate(self) -> float | None:
        return self.passed / self.total if self.total else None


@dataclass
class VariantStat:
    profile: str
    model: str
    tally: Tally = field(default_factory=Tally)
    baseline: Tally = field(default_factory=Tally)


@dataclass
class AssertionStat:
    """One assertion, aggregated over the cases it applies to (all cases for a default one)."""

    ident: str
    label: str
    tally: Tally = field(default_factory=Tally)
    baseline: Tally = field(default_factory=Tally)
    paired: int = 0
    """Pairs with both a prototype and a baseline result."""
    prototype_passed: int = 0
    """Paired pairs where the prototype passes: the denominator of `discrimination`."""
    discriminating: int = 0
    """Pairs where the baseline fails and the prototype passes."""

    @property
    def discrimination(self) -> float | None:
        """Share of the pairs the prototype passes that the baseline fails; None when it passes none."""
        return self.discriminating / self.prototype_passed if self.prototype_passed else None

    @property
    def not_discriminating(self) -> bool:
        """The prototype passes somewhere and the baseline passes everywhere it does."""
        return self.prototype_passed > 0 and self.discriminating == 0


@dataclass(frozen=True)
class Failure:
    case: str
    profile: str
    model: str
    reasons: list[str]


@dataclass(frozen=True)
class Regression:
    """A case that passed in `before` and fails now."""

    case: str
    profile: str
    model: str
    before: str
    reasons: list[str]

    def __str__(self) -> str:
        why = "; ".join(self.reasons) or "fails now"
        where = f"{self.profile} × {self.model}"
        return f"regression: case {self.case!r} on {where} passed in {self.before}, now: {why}"


@dataclass
class EvalSummary:
    pass_rate: float
    baseline_pass_rate: float | None
    variants: list[VariantStat]
    assertions: list[AssertionStat]
    failures: list[Failure]
    has_baseline: bool


def pass_rate(results: Iterable[EvalResult]) -> float:
    """Share of passed results; 0 when there are none."""
    items = list(results)
    return sum(r.passed for r in items) / len(items) if items else 0.0


def assertion_ident(case: str, key: str) -> str:
    """Default assertions aggregate over cases; a case's own assertions are per case."""
    return key if key.startswith(DEFAULT_PREFIX) else f"{case}.{key}"


def assertion_label(proto: Prototype, ident: str, fallback: str) -> str:
    """A readable label for an assertion ident, from the prototype as it is now."""
    found = _assertion_at(proto, ident)
    if ident.startswith(DEFAULT_PREFIX):
        return f"{describe(found) if found else fallback} (all cases)"
    case = ident.split(".", 1)[0]
    return f"{case}: {describe(found) if found else fallback}"


def check_words(proto: Prototype, ident: str, fallback: str) -> str:
    """What a check says, with no case prefix: for a row that already names its case (the Evals
    tab's "Why checks failed" has a Case column; `food: ...` there repeated an id)."""
    found = _assertion_at(proto, ident)
    words = describe(found) if found else fallback
    return f"{words} (all cases)" if ident.startswith(DEFAULT_PREFIX) else words


def agreement_check_label(proto: Prototype, key: str, fallback: str) -> str:
    """An agreement check key (`default_assert[0]`, `<case>: assert[1]`, see
    `agreement.check_inputs`) in words: the check as written, and the case's id for a case's own."""
    case, sep, name = key.partition(": ")
    ident = f"{case}.{name}" if sep else key
    return assertion_label(proto, ident, fallback) if _assertion_at(proto, ident) else key


def _assertion_at(proto: Prototype, ident: str) -> Assertion | None:
    try:
        if ident.startswith(DEFAULT_PREFIX):
            return proto.default_assert[int(ident[len(DEFAULT_PREFIX) : -1])]
        case_id, key = ident.split(".", 1)
        return proto.case(case_id).assert_[int(key[len("assert[") : -1])]
    except (KeyError, ValueError, IndexError):
        return None


def failure_reasons(result: EvalResult) -> list[str]:
    if result.error:
        return [f"the model call failed: {result.error}"]
    return [f"{a.type}: {a.reason}" for a in result.assertions if not a.passed]


def summarize(proto: Prototype, run: EvalRun) -> EvalSummary:
    """Aggregate one eval run. Baseline results pair with the prototype's by case, profile and model."""
    variants: dict[tuple[str, str], VariantStat] = {}
    stats: dict[str, AssertionStat] = {}
    failures: list[Failure] = []
    main = [r for r in run.results if not r.baseline]
    base = {(r.case, r.profile, r.model): r for r in run.results if r.baseline}
    for result in main:
        variant = variants.setdefault(
            (result.profile, result.model), VariantStat(result.profile, result.model)
        )
        variant.tally.add(result.passed)
        if not result.passed:
            failures.append(Failure(result.case, result.profile, result.model, failure_reasons(result)))
        twin = base.get((result.case, result.profile, result.model))
        if twin is not None:
            variant.baseline.add(twin.passed)
        twin_by_key = {a.key: a for a in twin.assertions} if twin is not None and not twin.error else {}
        for item in result.assertions:
            ident = assertion_ident(result.case, item.key)
            stat = stats.setdefault(ident, AssertionStat(ident, assertion_label(proto, ident, item.type)))
            stat.tally.add(item.passed)
            other = twin_by_key.get(item.key)
            if other is not None:
                stat.baseline.add(other.passed)
                stat.paired += 1
                stat.prototype_passed += int(item.passed)
                stat.discriminating += int(item.passed and not other.passed)
    baseline_results = [r for r in run.results if r.baseline]
    return EvalSummary(
        pass_rate=pass_rate(main),
        baseline_pass_rate=pass_rate(baseline_results) if baseline_results else None,
        variants=list(variants.values()),
        assertions=list(stats.values()),
        failures=failures,
        has_baseline=bool(baseline_results),
    )


Cell = tuple[str, str, str]
"""(case, profile, model): one graded cell of an eval run."""


def graded_cells(run: EvalRun) -> set[Cell]:
    """The prototype (not baseline) cells an eval run graded."""
    return {(r.case, r.profile, r.model) for r in run.results if not r.baseline}


def previous_run(
    proto: Prototype, spec: str, *, exclude: str | None = None, cells: Iterable[Cell] | None = None
) -> EvalRun:
    """The eval run to compare against: an id, or `last`: the newest other one that graded any of
    `cells` (the cells about to be graded), else the newest. Runs over other variants (another
    `--profile`) share nothing to regress from. Raises KeyError saying why."""
    runs = [r for r in proto.evals if r.id != exclude]
    if spec == "last":
        if not runs:
            raise KeyError("there is no earlier eval run to compare to (run `protostudio eval` once first)")
        wanted = set(cells or ())
        overlapping = [r for r in runs if graded_cells(r) & wanted]
        return (overlapping or runs)[-1]
    for run in runs:
        if run.id == spec:
            return run
    known = ", ".join(r.id for r in runs[-5:]) or "none"
    raise KeyError(f"no eval run with id {spec!r} (latest: {known})")


def shared_cells(before: EvalRun, now: EvalRun) -> int:
    """How many (case, variant) cells both runs graded: 0 means a comparison could find nothing."""
    return len(graded_cells(before) & graded_cells(now))


def find_regressions(before: EvalRun, now: EvalRun) -> list[Regression]:
    """Cases (per variant) that passed in `before` and fail in `now`, in `now`'s order."""
    passed_before = {(r.case, r.profile, r.model) for r in before.results if r.passed and not r.baseline}
    return [
        Regression(r.case, r.profile, r.model, before.id, failure_reasons(r))
        for r in now.results
        if not r.baseline and not r.passed and (r.case, r.profile, r.model) in passed_before
    ]
