"""Every read and write of a rating or a vote's rater goes through here.

A run keeps one `Rating` per rater (format 3). The GUI, the CLI, scoring, seeding, merging and
agreement all ask this module, so "whose thumb is this" and "who has rated this answer" have one
definition. Ratings written before format 3 carry no rater and read as "unknown".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.prototype import Preference, Prototype, Rating, Run, Thumb, utc_now

UNKNOWN = "unknown"
"""How a rating without a rater is shown and filtered."""


def rater_label(rater: str) -> str:
    """The name to show for a stored rater: empty means the rating predates raters."""
    return rater or UNKNOWN


def _same_rater(stored: str, wanted: str) -> bool:
    return rater_label(stored) == rater_label(wanted)


def is_empty(rating: Rating) -> bool:
    """A rating that says nothing (no thumb, note or tag) is not kept."""
    return rating.thumb is None and not rating.note.strip() and not rating.tags


# -- reading -----------------------------------------------------------------------------------------


def ratings_of(run: Run, rater: str | None = None) -> list[Rating]:
    """The run's ratings that say something; only `rater`'s when given (None: everyone's)."""
    return [r for r in run.ratings if not is_empty(r) and (rater is None or _same_rater(r.rater, rater))]


def rating_of(run: Run, rater: str) -> Rating:
    """What `rater` said about the run; an empty Rating when they have not rated it."""
    found = ratings_of(run, rater)
    return found[0] if found else Rating(rater=rater)


def thumb_of(run: Run, rater: str) -> Thumb | None:
    """`rater`'s thumb on the run, or None."""
    return rating_of(run, rater).thumb


def is_rated(run: Run, rater: str | None = None) -> bool:
    """True when `rater` (None: anyone) said anything about the run: a thumb, a note or a tag."""
    return bool(ratings_of(run, rater))


def thumbs_of(run: Run, rater: str | None = None) -> list[Thumb]:
    """Every thumb given to the run (one per rater), optionally by one rater."""
    return [r.thumb for r in ratings_of(run, rater) if r.thumb is not None]


@dataclass(frozen=True)
class Split:
    """How many people rated an answer and how they split."""

    up: int
    down: int
    raters: int

    @property
    def text(self) -> str:
        """E.g. `3 rated: 2 up, 1 down` (words: some desktops have no emoji font); empty when nobody rated."""
        if not self.raters:
            return ""
        return f"{self.raters} rated: {self.up} up, {self.down} down"


def split_of(run: Run) -> Split:
    """How everyone who rated the run split (one vote per rater)."""
    ratings = ratings_of(run)
    thumbs = [r.thumb for r in ratings]
    return Split(up=thumbs.count("up"), down=thumbs.count("down"), raters=len(ratings))


def team_thumb(run: Run) -> Thumb | None:
    """The majority thumb of everyone who rated the run; None when nobody did or it is a tie."""
    thumbs = thumbs_of(run)
    up, down = thumbs.count("up"), thumbs.count("down")
    if up == down:
        return None
    return "up" if up > down else "down"


def raters(proto: Prototype) -> list[str]:
    """Everyone who rated or voted in the file, as shown (`unknown` for rater-less ones), sorted."""
    names = {rater_label(r.rater) for run in proto.runs for r in ratings_of(run)}
    names |= {rater_label(p.rater) for p in proto.preferences}
    return sorted(names, key=str.casefold)


def votes_of(proto: Prototype, rater: str | None = None) -> list[Preference]:
    """The pairwise votes, optionally only one rater's."""
    return [p for p in proto.preferences if rater is None or _same_rater(p.rater, rater)]


def current_votes(proto: Prototype, rater: str | None = None) -> list[Preference]:
    """`votes_of`, with each rater's newest vote on a pair of runs standing for their earlier ones.

    Voting again on a pair (Compare A/B's "vote again on ties or disagreements") is a change of mind,
    not a second voice: win rates and the leaderboard count one vote per rater per pair, as agreement
    does. Votes without a rater (made before format 3, by anyone) are all kept. In file order."""
    votes = votes_of(proto, rater)
    newest: dict[tuple[str, frozenset[str]], Preference] = {}
    for pref in sorted(votes, key=lambda p: p.created):  # stable: equal times keep file order
        if pref.rater:
            newest[(rater_label(pref.rater), frozenset((pref.a, pref.b)))] = pref
    kept = {id(pref) for pref in newest.values()}
    return [p for p in votes if not p.rater or id(p) in kept]


def next_unrated(runs: Sequence[Run], rater: str, after: str | None = None) -> Run | None:
    """The first run after `after` (wrapping round) that `rater` has not given a thumb; None if none left.

    `runs` is the order the person sees them in, so the team can split the work by position.
    """
    if not runs:
        return None
    start = 0
    if after is not None:
        ids = [run.id for run in runs]
        start = ids.index(after) + 1 if after in ids else 0
    for offset in range(len(runs)):
        run = runs[(start + offset) % len(runs)]
        if rating_of(run, rater).thumb is None:
            return run
    return None


# -- writing -----------------------------------------------------------------------------------------


def set_rating(
    run: Run,
    rater: str,
    *,
    thumb: Thumb | None,
    note: str = "",
    tags: Iterable[str] = (),
    now: str | None = None,
) -> bool:
    """Replace `rater`'s rating of the run (an empty one removes it). Returns whether anything changed."""
    new = Rating(rater=rater, thumb=thumb, note=note.strip(), tags=[t for t in tags if t.strip()])
    old = rating_of(run, rater)
    if (old.thumb, old.note, old.tags) == (new.thumb, new.note, new.tags):
        return False
    kept = [r for r in run.ratings if not _same_rater(r.rater, rater)]
    if not is_empty(new):
        new.updated = now or utc_now()
        kept.append(new)
    run.ratings = kept
    return True


def clear_rating(run: Run, rater: str) -> bool:
    """Remove `rater`'s rating of the run. Returns whether there was one."""
    return set_rating(run, rater, thumb=None)


def set_thumb(run: Run, rater: str, thumb: Thumb | None, *, now: str | None = None) -> bool:
    """Set or clear just `rater`'s thumb, keeping their note and tags. Returns whether anything changed."""
    current = rating_of(run, rater)
    return set_rating(run, rater, thumb=thumb, note=current.note, tags=current.tags, now=now)


__all__ = [
    "UNKNOWN",
    "Split",
    "clear_rating",
    "current_votes",
    "is_empty",
    "is_rated",
    "next_unrated",
    "rater_label",
    "raters",
    "rating_of",
    "ratings_of",
    "set_rating",
    "set_thumb",
    "split_of",
    "team_thumb",
    "thumb_of",
    "thumbs_of",
    "votes_of",
]
