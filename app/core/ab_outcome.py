"""What an A/B comparison of two variants came to, for the "All cases compared" screen.

The counts are the Results tab's head-to-head numbers for this pair (`scoring.head_to_head` over
every vote between the two variants, same counting rules), so the A/B tab and Results never
disagree. On top: who voted, and which of the compared cases are worth another look (a tie, both
bad, or raters who disagree), and which ones a given rater has not voted on yet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from app.core.matchups import Matchup
from app.core.prototype import Prototype, Verdict
from app.core.ratings import current_votes, rater_label
from app.core.scoring import PairRecord, Variant, collect, head_to_head, variant_label


@dataclass(frozen=True)
class PairOutcome:
    """The outcome of comparing `first` with `second`; `record` is from `first`'s point of view."""

    first: Variant
    second: Variant
    cases: int
    """Cases where both have a current answer (the matchups)."""
    record: PairRecord
    voters: tuple[tuple[str, int], ...]
    """(rater as shown, votes between the two variants), most votes first."""
    revisit: tuple[int, ...]
    """Indices of matchups whose votes (each rater's newest) are a tie or both bad, or disagree."""
    not_by_rater: tuple[int, ...]
    """Indices of matchups the given rater has not voted on."""

    @property
    def votes(self) -> int:
        return self.record.votes


def _from_first(verdict: Verdict, first_is_a: bool) -> Verdict:
    if first_is_a or verdict in ("tie", "both_bad"):
        return verdict
    return "b" if verdict == "a" else "a"


def pair_outcome(
    proto: Prototype, found: list[Matchup], first: Variant, second: Variant, rater: str
) -> PairOutcome:
    """Summarise the votes between two variants; `found` are their matchups (`matchups.matchups`)."""
    record = next((r for r in head_to_head(collect(proto)) if {r.a, r.b} == {first, second}), None)
    if record is None:
        record = PairRecord(first, second, 0, 0, 0, 0)
    elif record.a != first:
        record = PairRecord(first, second, record.b_wins, record.a_wins, record.ties, record.both_bad)
    runs = {run.id: run for run in proto.runs}
    pair = {first, second}
    voters: Counter[str] = Counter()
    for pref in current_votes(proto):
        run_a, run_b = runs.get(pref.a), runs.get(pref.b)
        if run_a is None or run_b is None:
            continue
        if {Variant(run_a.profile, run_a.model), Variant(run_b.profile, run_b.model)} == pair:
            voters[rater_label(pref.rater)] += 1
    revisit: list[int] = []
    not_by_rater: list[int] = []
    for index, matchup in enumerate(found):
        ids = {matchup.first.id, matchup.second.id}
        votes = [p for p in proto.preferences if {p.a, p.b} == ids]
        latest = {rater_label(p.rater): _from_first(p.verdict, p.a == matchup.first.id) for p in votes}
        verdicts = set(latest.values())  # a rater who voted again counts with their newest vote
        if verdicts & {"tie", "both_bad"} or len(verdicts) > 1:
            revisit.append(index)
        if not any(rater_label(p.rater) == rater_label(rater) for p in votes):
            not_by_rater.append(index)
    return PairOutcome(
        first=first,
        second=second,
        cases=len(found),
        record=record,
        voters=tuple(sorted(voters.items(), key=lambda item: (-item[1], item[0].casefold()))),
        revisit=tuple(revisit),
        not_by_rater=tuple(not_by_rater),
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def outcome_words(proto: Prototype, outcome: PairOutcome) -> list[str]:
    """Three short lines: what was compared, by whom, and who came out ahead."""
    record = outcome.record
    first, second = variant_label(proto, outcome.first), variant_label(proto, outcome.second)
    by = ", ".join(f"{name} ({n})" for name, n in outcome.voters) or "nobody"
    lines = [
        f"{_count(outcome.cases, 'case')} compared, {_count(outcome.votes, 'vote')} by {by}.",
        f"{first} won {record.a_wins}, {second} won {record.b_wins}; "
        f"{_count(record.ties, 'tie')}, {record.both_bad} both bad.",
    ]
    rate = record.win_rate
    if rate is None:
        lines.append("No vote picked a side yet (only “both bad”), so neither is ahead.")
    elif rate == 0.5:
        lines.append("Even: neither is ahead (win rate 50%, ties count half).")
    else:
        leader, share = (first, rate) if rate > 0.5 else (second, 1 - rate)
        lines.append(f"{leader} is ahead: it wins {share:.0%} of these votes (ties count half).")
    return lines


__all__ = ["PairOutcome", "outcome_words", "pair_outcome"]
