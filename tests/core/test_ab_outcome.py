"""The A/B outcome of one pair: Results' head-to-head counts, who voted, what to look at again."""

from __future__ import annotations

from app.core.ab_outcome import outcome_words, pair_outcome
from app.core.matchups import matchups
from app.core.prototype import Preference, Prototype, Verdict
from app.core.scoring import Variant, collect, head_to_head

from .test_scoring import make_proto

P1, P2 = Variant("p1", "m"), Variant("p2", "m")


def vote(proto: Prototype, case: int, verdict: Verdict, rater: str, *, flipped: bool = False) -> None:
    a, b = f"run-p1-c{case}", f"run-p2-c{case}"
    if flipped:
        a, b = b, a
    proto.preferences.append(Preference(id=f"pref-{len(proto.preferences)}", created="2026-11-30T06:00:00Z",
                                        rater=rater, a=a, b=b, verdict=verdict, blind=True))


def test_counts_are_results_head_to_head_from_first_side() -> None:
    proto = make_proto(n_cases=4, profiles=("p1", "p2"))
    vote(proto, 0, "a", "ana")
    vote(proto, 1, "a", "ana", flipped=True)  # stored as p2 vs p1: p2 won
    vote(proto, 2, "tie", "ana")
    vote(proto, 3, "a", "bo")
    found = matchups(proto, P2, P1)  # the person picked p2 first
    outcome = pair_outcome(proto, found, P2, P1, "ana")
    results = next(r for r in head_to_head(collect(proto)) if {r.a, r.b} == {P1, P2})
    assert results.a == P1 and (results.a_wins, results.b_wins, results.ties) == (2, 1, 1)
    assert (outcome.record.a_wins, outcome.record.b_wins, outcome.record.ties) == (1, 2, 1)  # p2's side
    assert outcome.record.win_rate == 1 - (results.win_rate or 0)
    assert outcome.cases == 4 and outcome.votes == 4
    assert outcome.voters == (("ana", 3), ("bo", 1))
    assert outcome.revisit == (2,)  # the tie
    assert outcome.not_by_rater == (3,)  # ana never voted on case 3


def test_disagreeing_raters_are_revisited_and_words_name_the_leader() -> None:
    proto = make_proto(n_cases=2, profiles=("p1", "p2"))
    vote(proto, 0, "a", "ana")
    vote(proto, 0, "b", "bo")
    vote(proto, 1, "a", "ana")
    found = matchups(proto, P1, P2)
    outcome = pair_outcome(proto, found, P1, P2, "bo")
    assert outcome.revisit == (0,)
    assert outcome.not_by_rater == (1,)
    words = outcome_words(proto, outcome)
    assert words[0] == "2 cases compared, 3 votes by ana (2), bo (1)."
    assert words[1] == "P1 × Tiny won 2, P2 × Tiny won 1; 0 ties, 0 both bad."
    assert words[2].startswith("P1 × Tiny is ahead: it wins 67%")


def test_only_both_bad_means_nobody_ahead() -> None:
    proto = make_proto(n_cases=1, profiles=("p1", "p2"))
    vote(proto, 0, "both_bad", "")
    outcome = pair_outcome(proto, matchups(proto, P1, P2), P1, P2, "ana")
    assert outcome.voters == (("unknown", 1),)
    assert outcome.revisit == (0,)
    assert "neither is ahead" in outcome_words(proto, outcome)[2]


def test_a_rater_who_voted_again_counts_with_the_newest_vote_for_revisiting() -> None:
    proto = make_proto(n_cases=1, profiles=("p1", "p2"))
    vote(proto, 0, "tie", "ana")
    assert pair_outcome(proto, matchups(proto, P1, P2), P1, P2, "ana").revisit == (0,)
    vote(proto, 0, "a", "ana", flipped=True)  # ana looked again: p2 is better
    outcome = pair_outcome(proto, matchups(proto, P1, P2), P1, P2, "ana")
    assert outcome.revisit == ()
    assert outcome.voters == (("ana", 1),)  # her newest vote stands for the first, as in Results
    assert outcome.record.a_wins + outcome.record.b_wins + outcome.record.ties == 1
