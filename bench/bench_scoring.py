"""Scoring speed: how long a leaderboard with 95% bootstrap CIs takes, and what batching buys.

    python bench/bench_scoring.py

Figures (median of 5 runs each, 1000 bootstrap resamples, seed 0):
  leaderboard   `rank(tally)` for 6 and 20 variants and 50 to 5,000 random votes. The Results panel
                runs it off the GUI thread; the goal is well under a second for a typical file
                (<= 10 variants, <= 1,000 votes) so the panel updates while the person is still looking.
  batching      the same bootstrap refitted one resample at a time (`bradley_terry` per resample,
                100 resamples, scaled to 1000) / the batched version. Why numpy is used at all.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.scoring import Tally, Variant, Vote, bradley_terry, rank

REPEATS = 5


def tally(n_variants: int, n_votes: int, seed: int = 1) -> Tally:
    rng = random.Random(seed)
    variants = [Variant(f"p{i}", "m") for i in range(n_variants)]
    strength = {v: rng.uniform(0.5, 3.0) for v in variants}
    votes = []
    for _ in range(n_votes):
        a, b = rng.sample(variants, 2)
        x = rng.random()
        p_a = strength[a] / (strength[a] + strength[b])
        verdict = "a" if x < 0.85 * p_a else "b" if x < 0.85 else rng.choice(["tie", "both_bad"])
        votes.append(Vote(a, b, verdict, blind=True))  # type: ignore[arg-type]
    return Tally(variants=tuple(variants), votes=tuple(votes))


def median_seconds(fn: object, repeats: int = REPEATS) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_at_a_time(t: Tally, samples: int) -> None:
    """The unbatched bootstrap: resample the votes and refit, once per resample."""
    index = {v: i for i, v in enumerate(t.variants)}
    points = {"a": 1.0, "b": 0.0, "tie": 0.5}
    games = [(index[v.a], index[v.b], points[v.verdict]) for v in t.votes if v.verdict in points]
    rng = random.Random(0)
    for _ in range(samples):
        resample = [games[rng.randrange(len(games))] for _ in games]
        bradley_terry(len(t.variants), resample, tol=1e-7)


def main() -> None:
    print("leaderboard with 1000-resample bootstrap (median of 5)")
    print(f"{'variants':>8} {'votes':>6} {'seconds':>8}")
    for n_variants in (6, 20):
        for n_votes in (50, 200, 1000, 5000):
            t = tally(n_variants, n_votes)
            seconds = median_seconds(lambda t=t: rank(t, samples=1000))
            print(f"{n_variants:>8} {n_votes:>6} {seconds:>8.3f}")
    t = tally(6, 200)
    batched = median_seconds(lambda: rank(t, samples=1000))
    unbatched = median_seconds(lambda: one_at_a_time(t, 100), repeats=3) * 10
    print(f"\nbatching (6 variants, 200 votes): one at a time {unbatched:.2f} s, batched {batched:.3f} s, "
          f"ratio {unbatched / batched:.0f}x")


if __name__ == "__main__":
    main()
