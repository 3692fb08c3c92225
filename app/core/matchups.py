"""The A/B rules: which answers two variants are compared on, how a shuffled vote is stored,
and which cases still need a vote. Core, so the GUI and any script agree on them.

A matchup compares the *current* answers (`app/core/threads.py`, what the grid shows) of two
variants on one case. What is stored is always `a` = the first chosen variant's run and
`b` = the second's; blind mode shuffles left/right only on screen (`unshuffle`).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.prototype import Preference, Prototype, Run, Verdict, new_id, utc_now
from app.core.scoring import Variant
from app.core.threads import ANSWERED, cell_states


@dataclass(frozen=True)
class Matchup:
    """One case where both variants have an answer. `first`/`second` follow the person's choice."""

    case: str
    first: Run
    second: Run


def variants_with_answers(proto: Prototype) -> list[Variant]:
    """Variants with at least one answered top-level run: file order first, then unknown ones."""
    found = {Variant(r.profile, r.model) for r in proto.runs if r.parent is None and r.status in ANSWERED}
    order = [Variant(p.id, m.id) for p in proto.profiles for m in proto.models]
    return [v for v in order if v in found] + sorted(found - set(order))


def matchups(proto: Prototype, first: Variant, second: Variant) -> list[Matchup]:
    """The cases (file order) where both variants' current answers exist, as matchups."""
    if first == second:
        return []
    states = cell_states(proto)
    found: list[Matchup] = []
    for case in proto.cases:
        a = states.get((case.id, first.profile, first.model, 0))
        b = states.get((case.id, second.profile, second.model, 0))
        if a is None or b is None or a.current is None or b.current is None:
            continue
        if a.current.status in ANSWERED and b.current.status in ANSWERED:
            found.append(Matchup(case.id, a.current, b.current))
    return found


def unshuffle(on_screen: Verdict, swapped: bool) -> Verdict:
    """Translate a verdict about the screen's A/B into one about (first, second)."""
    if not swapped or on_screen in ("tie", "both_bad"):
        return on_screen
    return "b" if on_screen == "a" else "a"


def is_voted(proto: Prototype, matchup: Matchup) -> bool:
    """Whether these two runs already have a vote, in either order."""
    pair = {matchup.first.id, matchup.second.id}
    return any({p.a, p.b} == pair for p in proto.preferences)


def first_unvoted(proto: Prototype, found: list[Matchup]) -> int:
    """Index of the first matchup with no vote yet (0 when all have one)."""
    voted = {frozenset((p.a, p.b)) for p in proto.preferences}
    for index, m in enumerate(found):
        if frozenset((m.first.id, m.second.id)) not in voted:
            return index
    return 0


def all_voted(proto: Prototype, found: list[Matchup]) -> bool:
    voted = {frozenset((p.a, p.b)) for p in proto.preferences}
    return all(frozenset((m.first.id, m.second.id)) in voted for m in found)


def make_preference(matchup: Matchup, on_screen: Verdict, *, swapped: bool, blind: bool) -> Preference:
    """The vote to store for what the person saw (A = left), translated back to (first, second)."""
    return Preference(
        id=new_id("pref"),
        created=utc_now(),
        a=matchup.first.id,
        b=matchup.second.id,
        verdict=unshuffle(on_screen, swapped),
        blind=blind,
    )


__all__ = [
    "Matchup",
    "all_voted",
    "first_unvoted",
    "is_voted",
    "make_preference",
    "matchups",
    "unshuffle",
    "variants_with_answers",
]
