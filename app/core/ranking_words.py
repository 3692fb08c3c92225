"""Whether a leaderboard means anything yet, in words: with few votes the 95% intervals overlap and
the order is a coin toss. One home so the Results tab and `protostudio report` can say the same."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from app.core.scoring import VariantScore


def overlapping_pairs(scores: Sequence[VariantScore]) -> list[tuple[VariantScore, VariantScore]]:
    """Neighbours in the ranking (best first) whose 95% intervals overlap."""
    ranked = sorted(
        (s for s in scores if s.bt_score is not None and s.ci_low is not None and s.ci_high is not None),
        key=lambda s: -(s.bt_score or 0.0),
    )
    return [
        (upper, lower)
        for upper, lower in pairwise(ranked)
        if (lower.ci_high or 0.0) >= (upper.ci_low or 0.0)
    ]


MIN_VOTES = 5
"""Below this many votes a variant's interval is not worth drawing conclusions from (a bootstrap of
one vote even gives a zero-width interval, which looks precise and is not)."""


def ranking_words(scores: Sequence[VariantScore]) -> str:
    """"" when the order is clear; else which neighbours can't be told apart yet, and what to do."""
    ranked = [s for s in scores if s.bt_score is not None]
    if len(ranked) < 2:
        return ""
    few = [s for s in ranked if s.votes < MIN_VOTES]
    if few:
        least = min(s.votes for s in few)
        return (
            f"Too few votes to rank yet: {len(few)} of {len(ranked)} ranked variants have fewer than "
            f"{MIN_VOTES} votes (the fewest: {least}), so this order can flip with the next few votes. "
            "Keep voting in Compare A/B."
        )
    pairs = overlapping_pairs(scores)
    if not pairs:
        return ""
    if len(pairs) == len(ranked) - 1:
        return (
            "Too few votes to rank these variants yet: every neighbour's 95% interval overlaps the next, "
            "so the order could flip with a few more votes. Keep voting in Compare A/B."
        )
    names = "; ".join(f"{a.label} and {b.label}" for a, b in pairs)
    return (
        f"Too few votes to tell apart: {names} (their 95% intervals overlap). "
        "More votes in Compare A/B will settle it."
    )
