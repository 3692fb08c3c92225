"""What an eval run says: pass rates per variant and per assertion, baseline discrimination, regressions.

Discrimination of an assertion = the share of (case, variant) pairs where the prompted
baseline fails it and the prototype passes it. An assertion the baseline passes too, and
never fails where the prototype passes, is flagged *not discriminating*: it does not
measure what the profile adds.
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
    discriminating: int = 0
    """Pairs where the baseline fails and the prototype passes."""

    @property
    def discrimination(self) -> float | None:
        return self.discriminating / self.paired if self.paired else None

    @property
    def not_discriminating(self) -> bool:
        return self.paired > 0 and self.discriminating == 0 and self.baseline.passed > 0


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


def previous_run(proto: Prototype, spec: str, *, exclude: str | None = None) -> EvalRun:
    """The eval run to compare against: `last` (the newest other one) or an id. Raises KeyError saying why."""
    runs = [r for r in proto.evals if r.id != exclude]
    if spec == "last":
        if not runs:
            raise KeyError("there is no earlier eval run to compare to (run `protostudio eval` once first)")
        return runs[-1]
    for run in runs:
        if run.id == spec:
            return run
    known = ", ".join(r.id for r in runs[-5:]) or "none"
    raise KeyError(f"no eval run with id {spec!r} (latest: {known})")


def find_regressions(before: EvalRun, now: EvalRun) -> list[Regression]:
    """Cases (per variant) that passed in `before` and fail in `now`, in `now`'s order."""
    passed_before = {(r.case, r.profile, r.model) for r in before.results if r.passed and not r.baseline}
    return [
        Regression(r.case, r.profile, r.model, before.id, failure_reasons(r))
        for r in now.results
        if not r.baseline and not r.passed and (r.case, r.profile, r.model) in passed_before
    ]
