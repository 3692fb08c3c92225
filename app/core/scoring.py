"""Human signal as numbers: 👍 rates, pairwise win rates and a Bradley-Terry leaderboard with 95% CIs.

One implementation shared by the Results panel and `protostudio report`. It works in two steps so
the UI can keep the slow part off the GUI thread:

1. `collect(proto)` copies the few facts scoring needs (variants, thumbs, votes) into a frozen
   `Tally`. It is cheap and touches the prototype, so the UI calls it on the GUI thread.
2. `rank(tally)` fits Bradley-Terry and bootstraps its confidence intervals. It is pure, slow-ish
   and safe to run in a worker thread.

`leaderboard(proto)` does both for callers that do not care.

Counting rules (also in docs/architecture.md, "Scoring"):
- A variant is a (profile id, model id) pair; a vote's side is the variant of the run it names.
- Win rate = (wins + ties / 2) / (wins + losses + ties). "Both bad" votes are counted and shown,
  but they say nothing about which side is better, so they are left out of win rate and Bradley-Terry.
- Votes between two runs of the same variant carry no information and are ignored.
- `blind_only` filters votes; thumbs are never blind, so they are always all counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from app.core.prototype import Prototype, Verdict
from app.core.ratings import current_votes, thumbs_of

ELO_BASE = 1000.0
"""The score of a variant of average strength (the geometric mean of those compared)."""
ELO_SCALE = 400.0 / math.log(10.0)
"""Chess convention: 400 points = 10:1 odds of winning. Multiplies natural-log strengths."""
DEFAULT_PRIOR = 1.0
"""Virtual tied games between every pair of variants compared. They keep an unbeaten variant's
score finite and pull scores that rest on few votes toward the middle."""
DEFAULT_SAMPLES = 1000


class Variant(NamedTuple):
    """A column of the compare grid: one profile run on one model target."""

    profile: str
    model: str


@dataclass(frozen=True)
class Vote:
    """One pairwise preference, reduced to the variants of its two runs. `verdict` is about `a` vs `b`."""

    a: Variant
    b: Variant
    verdict: Verdict
    blind: bool


@dataclass(frozen=True)
class Tally:
    """Everything scoring needs from a prototype, detached from it (safe to hand to a thread)."""

    variants: tuple[Variant, ...]
    labels: dict[Variant, str] = field(default_factory=dict)
    thumbs: dict[Variant, tuple[int, int]] = field(default_factory=dict)
    """(up, down) counts per variant."""
    votes: tuple[Vote, ...] = ()
    blind_only: bool = False


@dataclass(frozen=True)
class VariantScore:
    """One row of the leaderboard. Rates and scores are None when there is nothing to base them on."""

    variant: Variant
    label: str
    thumbs_up: int
    thumbs_down: int
    thumb_rate: float | None
    wins: int
    losses: int
    ties: int
    both_bad: int
    win_rate: float | None
    bt_score: float | None
    ci_low: float | None
    ci_high: float | None
    votes: int

    @property
    def rated(self) -> int:
        return self.thumbs_up + self.thumbs_down


@dataclass(frozen=True)
class PairRecord:
    """Head-to-head counts between two variants, from `a`'s point of view."""

    a: Variant
    b: Variant
    a_wins: int
    b_wins: int
    ties: int
    both_bad: int

    @property
    def win_rate(self) -> float | None:
        """How often `a` beat `b`, ties counting half; None without a decisive or tied vote."""
        games = self.a_wins + self.b_wins + self.ties
        return None if games == 0 else (self.a_wins + self.ties / 2) / games

    @property
    def votes(self) -> int:
        return self.a_wins + self.b_wins + self.ties + self.both_bad


# -- step 1: collect ---------------------------------------------------------------------------------


def collect(proto: Prototype, *, blind_only: bool = False, rater: str | None = None) -> Tally:
    """The variants that have runs, their thumbs, and the (optionally blind-only) votes between them.

    Every rater's thumb counts, and each rater's newest vote on a pair (`current_votes`); with `rater`,
    only that person's thumbs and votes.
    """
    runs = {run.id: run for run in proto.runs}
    seen: dict[Variant, None] = {}
    thumbs: dict[Variant, tuple[int, int]] = {}
    for run in proto.runs:
        variant = Variant(run.profile, run.model)
        seen.setdefault(variant, None)
        up, down = thumbs.get(variant, (0, 0))
        given = thumbs_of(run, rater)
        thumbs[variant] = (up + given.count("up"), down + given.count("down"))
    votes: list[Vote] = []
    for pref in current_votes(proto, rater):
        if blind_only and not pref.blind:
            continue
        run_a, run_b = runs.get(pref.a), runs.get(pref.b)
        if run_a is None or run_b is None:
            continue
        a, b = Variant(run_a.profile, run_a.model), Variant(run_b.profile, run_b.model)
        if a != b:
            votes.append(Vote(a, b, pref.verdict, pref.blind))
    variants = _in_document_order(proto, list(seen))
    return Tally(
        variants=tuple(variants),
        labels={v: variant_label(proto, v) for v in variants},
        thumbs=thumbs,
        votes=tuple(votes),
        blind_only=blind_only,
    )


def variant_label(proto: Prototype, variant: Variant) -> str:
    """`profile name × model name`, falling back to ids for things no longer in the file."""
    profile = next((p.label for p in proto.profiles if p.id == variant.profile), variant.profile)
    model = next((m.label for m in proto.models if m.id == variant.model), variant.model)
    return f"{profile} × {model}"


def _in_document_order(proto: Prototype, variants: list[Variant]) -> list[Variant]:
    profile_pos = {p.id: i for i, p in enumerate(proto.profiles)}
    model_pos = {m.id: i for i, m in enumerate(proto.models)}
    far = len(proto.profiles) + len(proto.models) + 1
    return sorted(
        variants,
        key=lambda v: (profile_pos.get(v.profile, far), v.profile, model_pos.get(v.model, far), v.model),
    )


# -- step 2: rank ------------------------------------------------------------------------------------


def rank(
    tally: Tally,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    prior: float = DEFAULT_PRIOR,
) -> list[VariantScore]:
    """The leaderboard: best Bradley-Terry score first, variants without pairwise votes last."""
    if samples < 0:
        raise ValueError("samples must be 0 or more")
    if prior <= 0:
        raise ValueError("the leaderboard needs a prior > 0 so unbeaten variants get a finite score")
    counts = _vote_counts(tally)
    games = _games(tally)
    players = sorted({v for game in games for v in game[:2]}, key=tally.variants.index)
    scores: dict[Variant, float] = {}
    intervals: dict[Variant, tuple[float, float]] = {}
    if players:
        index = {v: i for i, v in enumerate(players)}
        indexed = [(index[a], index[b], points) for a, b, points in games]
        strengths = bradley_terry(len(players), indexed, prior=prior)
        point = elo_scores(strengths)
        scores = dict(zip(players, point, strict=True))
        if samples > 0:
            lows, highs = _bootstrap(
                len(players), games=indexed, strengths=strengths, samples=samples, seed=seed, prior=prior
            )
            intervals = {v: (lows[i], highs[i]) for i, v in enumerate(players)}
    rows = [_row(tally, v, counts.get(v, _Counts()), scores.get(v), intervals.get(v)) for v in tally.variants]
    order = {v: i for i, v in enumerate(tally.variants)}
    rows.sort(key=lambda r: (r.bt_score is None, -(r.bt_score or 0.0), order[r.variant]))
    return rows


def leaderboard(
    proto: Prototype,
    *,
    blind_only: bool = False,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    prior: float = DEFAULT_PRIOR,
) -> list[VariantScore]:
    """`rank(collect(proto))`: one call for the CLI and tests."""
    return rank(collect(proto, blind_only=blind_only), samples=samples, seed=seed, prior=prior)


def head_to_head(tally: Tally) -> list[PairRecord]:
    """Counts for every pair of variants that met, each pair once, in document order."""
    order = {v: i for i, v in enumerate(tally.variants)}
    pairs: dict[tuple[Variant, Variant], list[int]] = {}
    for vote in tally.votes:
        a, b = sorted((vote.a, vote.b), key=lambda v: order.get(v, len(order)))
        flipped = a != vote.a
        record = pairs.setdefault((a, b), [0, 0, 0, 0])
        if vote.verdict == "tie":
            record[2] += 1
        elif vote.verdict == "both_bad":
            record[3] += 1
        elif (vote.verdict == "a") != flipped:
            record[0] += 1
        else:
            record[1] += 1
    ordered = sorted(pairs.items(), key=lambda item: (order.get(item[0][0], 0), order.get(item[0][1], 0)))
    return [PairRecord(a, b, *counts) for (a, b), counts in ordered]


@dataclass
class _Counts:
    wins: int = 0
    losses: int = 0
    ties: int = 0
    both_bad: int = 0


def _vote_counts(tally: Tally) -> dict[Variant, _Counts]:
    counts: dict[Variant, _Counts] = {}
    for vote in tally.votes:
        a = counts.setdefault(vote.a, _Counts())
        b = counts.setdefault(vote.b, _Counts())
        if vote.verdict == "a":
            a.wins += 1
            b.losses += 1
        elif vote.verdict == "b":
            b.wins += 1
            a.losses += 1
        elif vote.verdict == "tie":
            a.ties += 1
            b.ties += 1
        else:
            a.both_bad += 1
            b.both_bad += 1
    return counts


def _games(tally: Tally) -> list[tuple[Variant, Variant, float]]:
    """Votes that say which side is better, as (a, b, points a earned): 1, 0 or 0.5 for a tie."""
    points = {"a": 1.0, "b": 0.0, "tie": 0.5}
    return [(v.a, v.b, points[v.verdict]) for v in tally.votes if v.verdict in points]


def _row(
    tally: Tally, variant: Variant, c: _Counts, score: float | None, interval: tuple[float, float] | None
) -> VariantScore:

    up, down = tally.thumbs.get(variant, (0, 0))
    games = c.wins + c.losses + c.ties
    return VariantScore(
        variant=variant,
        label=tally.labels.get(variant, f"{variant.profile} × {variant.model}"),
        thumbs_up=up,
        thumbs_down=down,
        thumb_rate=up / (up + down) if up + down else None,
        wins=c.wins,
        losses=c.losses,
        ties=c.ties,
        both_bad=c.both_bad,
        win_rate=(c.wins + c.ties / 2) / games if games else None,
        bt_score=score,
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        votes=games + c.both_bad,
    )


# -- Bradley-Terry -----------------------------------------------------------------------------------
#
# numpy is used here, and only here, because the bootstrap refits the model a thousand times: one
# resample at a time in pure Python that took seconds per leaderboard; drawn as one multinomial and
# refitted as one batch it takes tens of milliseconds (bench/scoring.py).

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


def bradley_terry(
    n: int,
    games: Sequence[tuple[int, int, float]],
    *,
    prior: float = DEFAULT_PRIOR,
    tol: float = 1e-10,
    max_iter: int = 100_000,
) -> list[float]:
    """Bradley-Terry strengths p (P(i beats j) = p_i / (p_i + p_j)) by Hunter's (2004) MM algorithm.

    `games` are (i, j, points i earned): 1 for a win, 0 for a loss, 0.5 for a tie (a tie is half a
    win for each side). `prior` adds that many virtual tied games between every pair of players, so
    the comparison graph is always connected, an unbeaten player's strength stays finite and few
    votes are pulled toward "all equal". The MM update on the augmented data is

        p_i <- W_i / sum_j n_ij / (p_i + p_j)

    where W_i is i's points and n_ij the games between i and j; after each sweep the strengths are
    rescaled to geometric mean 1 (the model only fixes their ratios). With `prior` = 0 this is the
    plain maximum likelihood estimate, which exists only when the comparison graph is strongly
    connected; a player with no win or no loss is refused.
    """
    import numpy as np  # here, not at import time: start-up need not pay ~0.3 s for it

    if prior < 0:
        raise ValueError("prior must be 0 or more")
    if n == 0:
        return []
    points, played = _tables(n, games, prior)
    if prior == 0 and bool(np.any((points <= 0) | (points >= played.sum(axis=1)))):
        raise ValueError("without a prior every player needs at least one win and one loss")
    fit = _mm(points[None, :], played[None, :, :], np.ones(n), tol, max_iter)
    return [float(x) for x in fit[0]]


def _tables(
    n: int, games: Sequence[tuple[int, int, float]], prior: float
) -> tuple[FloatArray, FloatArray]:
    """Points per player and the symmetric matrix of games played between each pair, prior included."""
    import numpy as np  # here, not at import time: start-up need not pay ~0.3 s for it

    points = np.full(n, prior * (n - 1) / 2)
    played = np.full((n, n), prior) - np.diag(np.full(n, prior))
    for i, j, p in games:
        if i == j:
            continue
        points[i] += p
        points[j] += 1.0 - p
        played[i, j] += 1.0
        played[j, i] += 1.0
    return points, played


def _mm(
    points: FloatArray, played: FloatArray, start: FloatArray, tol: float, max_iter: int
) -> FloatArray:
    """Hunter's MM iteration on a batch: points (S, k), played (S, k, k) -> strengths (S, k)."""
    import numpy as np  # here, not at import time: start-up need not pay ~0.3 s for it

    strength = np.tile(start, (points.shape[0], 1))
    for _ in range(max_iter):
        denom = (played / (strength[:, :, None] + strength[:, None, :])).sum(axis=2)
        new = points / denom
        new /= np.exp(np.log(new).mean(axis=1, keepdims=True))
        change = float(np.max(np.abs(np.log(new / strength))))
        strength = new
        if change < tol:
            break
    return strength


def elo_scores(strength: Sequence[float]) -> list[float]:
    """Strengths on the Elo scale, centred so the geometric-mean player scores `ELO_BASE`."""
    import numpy as np  # here, not at import time: start-up need not pay ~0.3 s for it

    logs = np.log(np.asarray(strength, dtype=np.float64))
    return [float(x) for x in ELO_BASE + ELO_SCALE * (logs - logs.mean())]


def _bootstrap(
    n: int,
    *,
    games: list[tuple[int, int, float]],
    strengths: list[float],
    samples: int,
    seed: int,
    prior: float,
) -> tuple[list[float], list[float]]:
    """Percentile 95% intervals from refits on votes resampled with replacement (seeded).

    Resampling V votes with replacement is a multinomial draw over the distinct outcomes
    (i, j, points), so all resamples are drawn at once and refitted as one batch.
    """
    import numpy as np  # here, not at import time: start-up need not pay ~0.3 s for it

    kinds = sorted(set(games))
    index = {kind: t for t, kind in enumerate(kinds)}
    freq = np.zeros(len(kinds))
    for game in games:
        freq[index[game]] += 1
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(games), freq / freq.sum(), size=samples).astype(np.float64)  # (S, T)
    to_points = np.zeros((len(kinds), n))
    to_played = np.zeros((len(kinds), n, n))
    base_points, base_played = _tables(n, [], prior)
    for t, (i, j, p) in enumerate(kinds):
        to_points[t, i] += p
        to_points[t, j] += 1.0 - p
        to_played[t, i, j] += 1.0
        to_played[t, j, i] += 1.0
    points = base_points + draws @ to_points
    played = base_played + (draws @ to_played.reshape(len(kinds), n * n)).reshape(samples, n, n)
    fit = _mm(points, played, np.asarray(strengths), 1e-6, 100_000)
    logs = np.log(fit)
    scores = ELO_BASE + ELO_SCALE * (logs - logs.mean(axis=1, keepdims=True))
    low, high = np.percentile(scores, [2.5, 97.5], axis=0)
    return [float(x) for x in low], [float(x) for x in high]


__all__ = [
    "DEFAULT_PRIOR",
    "DEFAULT_SAMPLES",
    "ELO_BASE",
    "ELO_SCALE",
    "PairRecord",
    "Tally",
    "Variant",
    "VariantScore",
    "Vote",
    "bradley_terry",
    "collect",
    "elo_scores",
    "head_to_head",
    "leaderboard",
    "rank",
    "variant_label",
]
