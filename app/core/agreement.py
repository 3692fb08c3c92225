"""Do the raters agree, with each other and with the checks? Kappa, alpha, a 2x2 table, position bias.

- Between two raters: Cohen's kappa on the answers (or vote pairs) both rated.
- Between more: Krippendorff's alpha (nominal), which allows each answer to have any subset of
  raters; `fleiss_kappa` is here too for complete designs.
- Between the team and a model-graded or similarity check: Cohen's kappa of "check passed" against
  the team's majority thumb on the same outputs, with the 2x2 table behind it.
- Position bias in blind A/B: each rater's share of decisive votes for the left side.

A statistic is None when it is not defined (nothing shared, or everyone used one single category:
there is no disagreement to measure against chance). Readings follow Landis & Koch (1977).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from app.core.prototype import Preference, Prototype, Verdict
from app.core.ratings import rater_label, ratings_of, team_thumb, votes_of

MIN_SHARED_FOR_FLAG = 5
"""A check is flagged as disagreeing with the team only when judged on at least this many answers."""
FLAG_BELOW = 0.4
"""Kappa under this (fair agreement or worse) flags a check: do not rely on it in CI yet."""
MODEL_GRADED = frozenset({"llm-rubric", "similar"})
"""Check types whose verdict comes from a model (with or without `not-`)."""


# -- statistics ---------------------------------------------------------------------------------------


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; None when undefined."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(1 for a, b in pairs if a == b) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in first) / (n * n)
    if expected >= 1.0:
        return None  # both raters used one and the same category throughout
    return (observed - expected) / (1.0 - expected)


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa from per-item category counts (every item rated by the same number of raters)."""
    rows = [list(row) for row in table if sum(row) > 0]
    if not rows:
        return None
    raters = sum(rows[0])
    if raters < 2 or any(sum(row) != raters for row in rows):
        raise ValueError("Fleiss' kappa needs the same number (at least 2) of raters on every item")
    n = len(rows)
    p_items = [(sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in rows]
    totals = [sum(column) for column in zip(*rows, strict=True)]
    p_categories = [t / (n * raters) for t in totals]
    p_bar, p_e = sum(p_items) / n, sum(p * p for p in p_categories)
    if p_e >= 1.0:
        return None
    return float((p_bar - p_e) / (1.0 - p_e))


def krippendorff_alpha(units: Sequence[Sequence[Hashable]]) -> float | None:
    """Krippendorff's alpha for nominal data: each unit lists the values it got (missing ones left out)."""
    pairable = [list(values) for values in units if len(values) >= 2]
    coincidence: defaultdict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for values in pairable:
        weight = 1.0 / (len(values) - 1)
        for i, j in itertools.permutations(range(len(values)), 2):
            coincidence[(values[i], values[j])] += weight
    totals: defaultdict[Hashable, float] = defaultdict(float)
    for (c, _), count in coincidence.items():
        totals[c] += count
    n = sum(totals.values())
    if n <= 1:
        return None
    observed = sum(count for (c, k), count in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k) / (n - 1)
    if expected == 0:
        return None  # a single value throughout: nothing to measure
    return 1.0 - observed / expected


def reading(value: float | None) -> str:
    """Plain words for a kappa or alpha (Landis & Koch)."""
    if value is None:
        return "not defined"
    if value < 0:
        return "worse than chance"
    for limit, words in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if value <= limit:
            return f"{words} agreement"
    return "almost perfect agreement"


# -- between raters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaterAgreement:
    """Agreement of some raters on one kind of judgement (thumbs or A/B votes)."""

    kind: str
    method: str
    raters: tuple[str, ...]
    value: float | None
    shared: int
    unit: str

    @property
    def summary(self) -> str:
        """E.g. `moderate agreement, 14 shared answers (Cohen's kappa 0.52)`."""
        if self.shared == 0:
            return f"no shared {self.unit}s yet"
        stat = "" if self.value is None else f" {self.value:.2f}"
        words = reading(self.value)
        if self.value is None:
            words = "not defined: everyone gave the same label"
        plural = "s" if self.shared != 1 else ""
        return f"{words}, {self.shared} shared {self.unit}{plural} ({self.method}{stat})"


Labels = dict[str, dict[Hashable, str]]
"""rater -> item -> label: what the statistics need, collected cheaply from the document."""


def thumb_labels(proto: Prototype) -> Labels:
    """rater -> run id -> thumb."""
    labels: dict[str, dict[Hashable, str]] = defaultdict(dict)
    for run in proto.runs:
        for rating in ratings_of(run):
            if rating.thumb is not None:
                labels[rater_label(rating.rater)][run.id] = rating.thumb
    return labels


_FLIP: dict[Verdict, Verdict] = {"a": "b", "b": "a", "tie": "tie", "both_bad": "both_bad"}


def _vote_key(pref: Preference) -> tuple[tuple[str, str], Verdict]:
    """The pair of runs in a fixed order and the verdict relative to that order."""
    if pref.a <= pref.b:
        return (pref.a, pref.b), pref.verdict
    return (pref.b, pref.a), _FLIP[pref.verdict]


def vote_labels(proto: Prototype) -> Labels:
    """rater -> run pair -> verdict (the newest vote of that rater on that pair)."""
    labels: dict[str, dict[Hashable, str]] = defaultdict(dict)
    for pref in sorted(votes_of(proto), key=lambda p: p.created):
        pair, verdict = _vote_key(pref)
        labels[rater_label(pref.rater)][pair] = verdict
    return labels


def _agreements(kind: str, unit: str, labels: dict[str, dict[Hashable, str]]) -> list[RaterAgreement]:
    names = sorted(labels, key=str.casefold)
    if len(names) < 2:
        return []
    out: list[RaterAgreement] = []
    if len(names) > 2:
        items = {item for name in names for item in labels[name]}
        units = [[labels[name][item] for name in names if item in labels[name]] for item in items]
        shared = sum(1 for values in units if len(values) >= 2)
        alpha = krippendorff_alpha(units)
        out.append(RaterAgreement(kind, "Krippendorff's alpha", tuple(names), alpha, shared, unit))
    for first, second in itertools.combinations(names, 2):
        common = [item for item in labels[first] if item in labels[second]]
        pairs = [(labels[first][item], labels[second][item]) for item in common]
        kappa = cohen_kappa(pairs)
        out.append(RaterAgreement(kind, "Cohen's kappa", (first, second), kappa, len(pairs), unit))
    return out


def rater_agreement(proto: Prototype) -> list[RaterAgreement]:
    """Thumbs, then votes: the all-rater alpha when there are more than two raters, then every pair."""
    return agreements_from(thumb_labels(proto), vote_labels(proto))


def agreements_from(thumbs: Labels, votes: Labels) -> list[RaterAgreement]:
    """The statistics step of `rater_agreement`, on collected labels (so a GUI can run it off-thread)."""
    return _agreements("thumbs", "answer", thumbs) + _agreements("votes", "pair", votes)


# -- between the team and the checks -----------------------------------------------------------------


@dataclass(frozen=True)
class CheckAgreement:
    """How one model-graded or similarity check agrees with the team's thumbs on the same outputs."""

    key: str
    type: str
    value: float | None
    pass_up: int
    pass_down: int
    fail_up: int
    fail_down: int

    @property
    def shared(self) -> int:
        return self.pass_up + self.pass_down + self.fail_up + self.fail_down

    @property
    def flagged(self) -> bool:
        """Judged on enough answers and agreeing only fairly or worse: don't rely on it yet."""
        return self.shared >= MIN_SHARED_FOR_FLAG and (self.value is None or self.value < FLAG_BELOW)

    @property
    def summary(self) -> str:
        if not self.shared:
            return "no rated outputs graded yet"
        stat = "" if self.value is None else f" (kappa {self.value:.2f})"
        words = reading(self.value) if self.value is not None else "not defined"
        warn = "; disagrees with the team, check it before relying on it" if self.flagged else ""
        if self.shared < MIN_SHARED_FOR_FLAG:
            warn = f"; too few rated outputs (fewer than {MIN_SHARED_FOR_FLAG}) to judge it"
        return f"{words} with the team's thumbs, {self.shared} outputs{stat}{warn}"


Verdicts = dict[tuple[str, str], dict[str, bool]]
"""(check, type) -> run id -> passed."""


def check_agreement(proto: Prototype) -> list[CheckAgreement]:
    """Every model-graded or similarity check in the eval history against the team's majority thumb."""
    return checks_from(*check_inputs(proto))


def check_inputs(proto: Prototype) -> tuple[Verdicts, dict[str, str]]:
    """The newest verdict of each model-graded check per run, and the team's thumb per rated run."""
    runs = {run.id: run for run in proto.runs}
    verdicts: Verdicts = {}
    for eval_run in sorted(proto.evals, key=lambda e: e.created):  # newer verdicts replace older ones
        for result in eval_run.results:
            if result.run is None or result.run not in runs:
                continue
            for index, check in enumerate(result.assertions):
                if check.type.removeprefix("not-") not in MODEL_GRADED:
                    continue
                name = check.key or f"assert[{index}]"
                shared = name.startswith("default_assert")  # one check applied to every case
                which = (name if shared else f"{result.case}: {name}", check.type)
                verdicts.setdefault(which, {})[result.run] = check.passed
    thumbs: dict[str, str] = {
        run_id: thumb for run_id, run in runs.items() if (thumb := team_thumb(run)) is not None
    }
    return verdicts, thumbs


def checks_from(verdicts: Verdicts, thumbs: dict[str, str]) -> list[CheckAgreement]:
    """The statistics step of `check_agreement`."""
    out: list[CheckAgreement] = []
    for (key, type_), by_run in verdicts.items():
        cells: Counter[tuple[bool, str]] = Counter()
        pairs: list[tuple[Hashable, Hashable]] = []
        for run_id, passed in by_run.items():
            thumb = thumbs.get(run_id)
            if thumb is not None:
                cells[(passed, thumb)] += 1
                pairs.append(("up" if passed else "down", thumb))
        out.append(CheckAgreement(
            key, type_, cohen_kappa(pairs), cells[(True, "up")], cells[(True, "down")],
            cells[(False, "up")], cells[(False, "down")],
        ))
    return sorted(out, key=lambda c: c.key)


# -- position bias --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionBias:
    """One rater's decisive blind votes: how many went to whichever answer was on the left."""

    rater: str
    left: int
    decisive: int

    @property
    def share(self) -> float | None:
        return self.left / self.decisive if self.decisive else None

    @property
    def p_value(self) -> float:
        """Two-sided exact binomial test of "left and right are equally likely"."""
        return binomial_two_sided(self.left, self.decisive)

    @property
    def biased(self) -> bool:
        return self.decisive > 0 and self.p_value < 0.05

    @property
    def summary(self) -> str:
        if not self.decisive:
            return "no decisive blind votes"
        note = " — far from one half: this rater may favour a side" if self.biased else ""
        return f"{self.share:.0%} of {self.decisive} decisive blind votes went to the left{note}"


def binomial_two_sided(k: int, n: int) -> float:
    """P(a result at least as unlikely as k of n) for a fair coin."""
    if n == 0:
        return 1.0
    probs = [math.comb(n, i) / (1 << n) for i in range(n + 1)]
    return min(1.0, sum(p for p in probs if p <= probs[k] * (1 + 1e-9)))


def position_bias(proto: Prototype) -> list[PositionBias]:
    """Per rater, among blind votes for one side (not ties or "both bad"), the share for the left side.

    Votes without a rater predate format 3, which is also when the side shown on the left started
    being recorded (`swapped`), so they are left out rather than all counted as "a on the left".
    """
    left: Counter[str] = Counter()
    decisive: Counter[str] = Counter()
    for pref in votes_of(proto):
        if not pref.blind or pref.verdict not in ("a", "b") or not pref.rater:
            continue
        name = rater_label(pref.rater)
        decisive[name] += 1
        if (pref.verdict == "a") != pref.swapped:
            left[name] += 1
    return [PositionBias(name, left[name], decisive[name]) for name in sorted(decisive, key=str.casefold)]
