"""Scoring maths: counts, win rates, Bradley-Terry against hand-worked examples, bootstrap CIs."""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.core.prototype import Case, ModelTarget, Preference, Profile, Prototype, Rating, Run, Turn, Verdict
from app.core.scoring import (
    ELO_BASE,
    Variant,
    VariantScore,
    bradley_terry,
    collect,
    elo_scores,
    head_to_head,
    leaderboard,
)

P1, P2, P3 = Variant("p1", "m"), Variant("p2", "m"), Variant("p3", "m")


def make_proto(n_cases: int = 1, profiles: tuple[str, ...] = ("p1", "p2", "p3")) -> Prototype:
    """One model, the given profiles, and one run per (profile, case), ids `run-<profile>-<case>`."""
    cases = [Case(id=f"c{i}", turns=[Turn(content=f"question {i}")]) for i in range(n_cases)]
    runs = [
        Run(id=f"run-{p}-{c.id}", created="2026-11-22T06:00:00Z", profile=p, model="m", case=c.id,
            output="hi")
        for p in profiles
        for c in cases
    ]
    return Prototype(
        name="scoring",
        profiles=[Profile(id=p, name=p.upper()) for p in profiles],
        models=[ModelTarget(id="m", provider="local", model="tiny", name="Tiny")],
        cases=cases,
        runs=runs,
    )


def vote(proto: Prototype, a: str, b: str, verdict: Verdict, *, blind: bool = True, case: int = 0) -> None:
    """Record a vote between profile `a`'s and profile `b`'s run of one case."""
    proto.preferences.append(
        Preference(
            id=f"pref-{len(proto.preferences)}",
            created="2026-11-22T06:00:00Z",
            a=f"run-{a}-c{case}",
            b=f"run-{b}-c{case}",
            verdict=verdict,
            blind=blind,
        )
    )


def by_variant(proto: Prototype, **kwargs: Any) -> dict[Variant, VariantScore]:
    return {row.variant: row for row in leaderboard(proto, **kwargs)}


# -- Bradley-Terry, worked by hand -------------------------------------------------------------------


def test_bradley_terry_mle_matches_hand_computed_fixed_point() -> None:
    # Three players. A beat B 2 of 3, A beat C 4 of 5, B beat C 2 of 3. So
    #   W_A = 2 + 4 = 6,  W_B = 1 + 2 = 3,  W_C = 1 + 1 = 2;  n_AB = 3, n_AC = 5, n_BC = 3.
    # Hunter's MM fixed point is p_i = W_i / sum_j n_ij / (p_i + p_j). Try p = (4, 2, 1):
    #   A: 6 / (3/6 + 5/5) = 6 / 1.5 = 4   B: 3 / (3/6 + 3/3) = 3 / 1.5 = 2   C: 2 / (5/5 + 3/3) = 2 / 2 = 1
    # It is a fixed point, and the MLE is unique (every player won and lost), so the fit must be
    # 4 : 2 : 1, i.e. (2, 1, 0.5) at geometric mean 1.
    games = [(0, 1, 1.0)] * 2 + [(1, 0, 1.0)] + [(0, 2, 1.0)] * 4 + [(2, 0, 1.0)]
    games += [(1, 2, 1.0)] * 2 + [(2, 1, 1.0)]
    strengths = bradley_terry(3, games, prior=0)
    assert strengths == pytest.approx([2.0, 1.0, 0.5], rel=1e-7)
    # On the Elo scale, doubling strength is 400 * log10(2) = 120.41 points; B is the geometric mean.
    expected = [ELO_BASE + 120.412, ELO_BASE, ELO_BASE - 120.412]
    assert elo_scores(strengths) == pytest.approx(expected, abs=1e-3)


def test_ties_are_half_wins() -> None:
    # A beat B once and they tied twice: W_A = 1 + 2 * 0.5 = 2, W_B = 0 + 2 * 0.5 = 1, n = 3.
    # Two players: p_A / p_B = W_A / W_B = 2.
    a, b = bradley_terry(2, [(0, 1, 1.0), (0, 1, 0.5), (1, 0, 0.5)], prior=0)
    assert a / b == pytest.approx(2.0, rel=1e-7)


def test_prior_keeps_an_unbeaten_player_finite_hand_computed() -> None:
    # A beat B once. The prior adds one virtual tied game between them, so
    #   W_A = 1 + 0.5 = 1.5,  W_B = 0 + 0.5 = 0.5,  n_AB = 2,  and with two players p_A / p_B = 3.
    a, b = bradley_terry(2, [(0, 1, 1.0)], prior=1.0)
    assert a / b == pytest.approx(3.0, rel=1e-7)
    assert math.isfinite(a) and math.isfinite(b)


def test_no_prior_refuses_an_unbeaten_player() -> None:
    with pytest.raises(ValueError, match="win and one loss"):
        bradley_terry(2, [(0, 1, 1.0)], prior=0)


def test_leaderboard_scores_use_the_same_fit() -> None:
    proto = make_proto(profiles=("p1", "p2"))
    vote(proto, "p1", "p2", "a")
    rows = by_variant(proto, samples=0)
    # Hand-computed above: ratio 3 -> 400 * log10(3) = 190.85 points apart, centred on 1000.
    assert rows[P1].bt_score == pytest.approx(ELO_BASE + 95.424, abs=1e-2)
    assert rows[P2].bt_score == pytest.approx(ELO_BASE - 95.424, abs=1e-2)


# -- counting ----------------------------------------------------------------------------------------


def test_win_rate_counts_ties_as_half_and_both_bad_apart() -> None:
    proto = make_proto()
    vote(proto, "p1", "p2", "a")
    vote(proto, "p2", "p1", "b")  # p1 again, from the other side
    vote(proto, "p1", "p2", "tie")
    vote(proto, "p1", "p3", "b")
    vote(proto, "p3", "p1", "both_bad")
    rows = by_variant(proto, samples=0)
    r1 = rows[P1]
    assert (r1.wins, r1.losses, r1.ties, r1.both_bad, r1.votes) == (2, 1, 1, 1, 5)
    assert r1.win_rate == pytest.approx((2 + 0.5) / 4)
    r2 = rows[P2]
    assert (r2.wins, r2.losses, r2.ties, r2.both_bad) == (0, 2, 1, 0)
    assert r2.win_rate == pytest.approx(0.5 / 3)
    r3 = rows[P3]
    assert (r3.wins, r3.losses, r3.ties, r3.both_bad) == (1, 0, 0, 1)
    assert r3.win_rate == 1.0


def test_only_both_bad_gives_no_win_rate_and_no_score() -> None:
    proto = make_proto(profiles=("p1", "p2"))
    vote(proto, "p1", "p2", "both_bad")
    rows = by_variant(proto)
    assert rows[P1].both_bad == 1 and rows[P1].win_rate is None
    assert rows[P1].bt_score is None and rows[P1].ci_low is None


def test_thumb_rate() -> None:
    proto = make_proto(n_cases=4, profiles=("p1", "p2"))
    for case, thumb in enumerate(["up", "up", "down", None]):
        proto.run(f"run-p1-c{case}").ratings = [Rating(thumb=thumb)]
    rows = by_variant(proto, samples=0)
    assert (rows[P1].thumbs_up, rows[P1].thumbs_down) == (2, 1)
    assert rows[P1].thumb_rate == pytest.approx(2 / 3)
    assert rows[P2].thumb_rate is None


def test_blind_only_filters_votes_but_not_thumbs() -> None:
    proto = make_proto(profiles=("p1", "p2"))
    proto.run("run-p1-c0").ratings = [Rating(thumb="up")]
    vote(proto, "p1", "p2", "a", blind=True)
    vote(proto, "p1", "p2", "b", blind=False)
    vote(proto, "p1", "p2", "b", blind=False)
    everything = by_variant(proto, samples=0)
    blind = by_variant(proto, samples=0, blind_only=True)
    assert (everything[P1].wins, everything[P1].losses) == (1, 2)
    assert (blind[P1].wins, blind[P1].losses) == (1, 0)
    assert blind[P1].thumbs_up == 1
    assert blind[P1].bt_score > blind[P2].bt_score
    assert everything[P1].bt_score < everything[P2].bt_score


def test_votes_within_one_variant_and_unknown_runs_are_ignored() -> None:
    proto = make_proto(n_cases=2, profiles=("p1", "p2"))
    proto.preferences.append(
        Preference(id="same", created="x", a="run-p1-c0", b="run-p1-c1", verdict="a")
    )
    proto.preferences.append(Preference(id="gone", created="x", a="run-p1-c0", b="run-deleted", verdict="a"))
    assert collect(proto).votes == ()


def test_head_to_head_from_the_first_variants_side() -> None:
    proto = make_proto()
    vote(proto, "p2", "p1", "b")  # p1 beat p2, stored with p2 as `a`
    vote(proto, "p1", "p2", "a")
    vote(proto, "p1", "p2", "tie")
    vote(proto, "p1", "p2", "both_bad")
    vote(proto, "p3", "p2", "a")
    pairs = head_to_head(collect(proto))
    assert [(p.a, p.b) for p in pairs] == [(P1, P2), (P2, P3)]
    first = pairs[0]
    assert (first.a_wins, first.b_wins, first.ties, first.both_bad, first.votes) == (2, 0, 1, 1, 4)
    assert first.win_rate == pytest.approx(2.5 / 3)
    assert (pairs[1].a_wins, pairs[1].b_wins) == (0, 1)


def test_rows_are_sorted_best_first_with_unvoted_variants_last() -> None:
    proto = make_proto(profiles=("p1", "p2", "p3"))
    vote(proto, "p1", "p2", "b")
    vote(proto, "p1", "p2", "b")
    rows = leaderboard(proto, samples=0)
    assert [r.variant for r in rows] == [P2, P1, P3]
    assert rows[-1].bt_score is None and rows[-1].votes == 0
    assert rows[0].label == "P2 × Tiny"


# -- bootstrap ---------------------------------------------------------------------------------------


def many_votes(proto: Prototype, repeat: int) -> None:
    """p1 > p2 > p3 with some upsets, `repeat` times over."""
    for _ in range(repeat):
        for a, b, verdict in [
            ("p1", "p2", "a"), ("p1", "p2", "a"), ("p1", "p2", "b"), ("p1", "p2", "tie"),
            ("p2", "p3", "a"), ("p2", "p3", "a"), ("p2", "p3", "b"),
            ("p1", "p3", "a"), ("p1", "p3", "a"), ("p1", "p3", "a"), ("p1", "p3", "b"),
        ]:
            vote(proto, a, b, verdict)  # type: ignore[arg-type]


def test_confidence_interval_contains_estimate_and_narrows_with_more_votes() -> None:
    few, lots = make_proto(), make_proto()
    many_votes(few, 1)
    many_votes(lots, 10)
    small = by_variant(few, samples=500)
    large = by_variant(lots, samples=500)
    for rows in (small, large):
        for row in rows.values():
            assert row.ci_low < row.bt_score < row.ci_high
    for variant in (P1, P2, P3):
        width_few = small[variant].ci_high - small[variant].ci_low
        width_lots = large[variant].ci_high - large[variant].ci_low
        assert width_lots < width_few / 2
    assert large[P1].bt_score > large[P2].bt_score > large[P3].bt_score
    assert large[P1].ci_low > large[P3].ci_high


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    proto = make_proto()
    many_votes(proto, 2)
    first = leaderboard(proto, samples=300, seed=7)
    again = leaderboard(proto, samples=300, seed=7)
    other = leaderboard(proto, samples=300, seed=8)
    assert first == again
    assert [r.ci_low for r in first] != [r.ci_low for r in other]
    assert [r.bt_score for r in first] == [r.bt_score for r in other]


def test_no_votes_means_no_scores_but_rows_for_every_variant_with_runs() -> None:
    rows = leaderboard(make_proto(profiles=("p1", "p2")))
    assert [r.variant for r in rows] == [P1, P2]
    assert all(r.bt_score is None and r.win_rate is None for r in rows)


def test_bad_arguments() -> None:
    proto = make_proto()
    with pytest.raises(ValueError, match="prior"):
        leaderboard(proto, prior=0)
    with pytest.raises(ValueError, match="samples"):
        leaderboard(proto, samples=-1)
