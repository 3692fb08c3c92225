"""A rater's newest vote on a pair stands for their earlier ones in win rates and the leaderboard."""

from __future__ import annotations

from app.core.prototype import Preference, Prototype
from app.core.ratings import current_votes
from app.core.scoring import collect, head_to_head

BASE = """
name: votes
profiles: [{id: p1, system_prompt: a}, {id: p2, system_prompt: b}]
models: [{id: m, provider: local, model: x}]
cases: [{id: c, turns: [{content: hi}]}]
runs:
  - {id: r1, created: '2026-11-01T00:00:00Z', profile: p1, model: m, case: c, output: one}
  - {id: r2, created: '2026-11-01T00:00:00Z', profile: p2, model: m, case: c, output: two}
"""


def _vote(ident: str, rater: str, verdict: str, created: str, *, a: str = "r1", b: str = "r2") -> Preference:
    return Preference(id=ident, created=created, rater=rater, a=a, b=b, verdict=verdict)  # type: ignore[arg-type]


def _proto(*votes: Preference) -> Prototype:
    from app.core.document import parse_prototype

    proto = parse_prototype(BASE)
    proto.preferences = list(votes)
    return proto


def test_a_second_vote_by_the_same_rater_replaces_the_first() -> None:
    proto = _proto(_vote("v1", "ana", "a", "2026-11-02T00:00:00Z"),
                   _vote("v2", "ana", "b", "2026-11-03T00:00:00Z", a="r2", b="r1"))  # the pair, shown swapped
    assert [p.id for p in current_votes(proto)] == ["v2"]
    (record,) = head_to_head(collect(proto))
    assert record.a_wins + record.b_wins + record.ties + record.both_bad == 1
    assert (record.a_wins if record.a.profile == "p1" else record.b_wins) == 1  # ana's newest: p1 wins


def test_other_raters_and_rater_less_votes_all_count() -> None:
    proto = _proto(_vote("v1", "ana", "a", "2026-11-02T00:00:00Z"),
                   _vote("v2", "bo", "b", "2026-11-02T00:00:00Z"),
                   _vote("v3", "", "a", "2026-11-02T00:00:00Z"),
                   _vote("v4", "", "a", "2026-11-03T00:00:00Z"))
    assert [p.id for p in current_votes(proto)] == ["v1", "v2", "v3", "v4"]
    (record,) = head_to_head(collect(proto))
    assert record.a_wins + record.b_wins + record.ties + record.both_bad == 4
