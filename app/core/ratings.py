"""Every read and write of a rating goes through here, so the storage can change in one place.

Today a rating lives on its run (`Run.rating`). The GUI, the CLI, the engine, scoring and
seeding ask this module instead of touching the field, so a change of storage (several
raters per run, say) is an edit to this file and its tests.
"""

from __future__ import annotations

from app.core.prototype import Prototype, Rating, Run, Thumb

NO_RATING = Rating()


def rating_of(run: Run) -> Rating:
    """What was said about this run (an empty Rating when nothing was)."""
    return run.rating


def thumb_of(run: Run) -> Thumb | None:
    """The run's thumb, or None."""
    return run.rating.thumb


def is_rated(run: Run) -> bool:
    """True when someone said anything about the run: a thumb, a note or a tag."""
    return run.rating != NO_RATING


def set_rating(proto: Prototype, run_id: str, rating: Rating) -> bool:
    """Replace a run's rating. Returns whether anything changed. KeyError for an unknown run."""
    run = proto.run(run_id)
    if run.rating == rating:
        return False
    run.rating = rating.model_copy(deep=True)
    return True


def set_thumb(proto: Prototype, run_id: str, thumb: Thumb | None) -> bool:
    """Set or clear just the thumb, keeping the note and tags. Returns whether anything changed."""
    current = rating_of(proto.run(run_id))
    return set_rating(proto, run_id, current.model_copy(update={"thumb": thumb}))


__all__ = ["NO_RATING", "is_rated", "rating_of", "set_rating", "set_thumb", "thumb_of"]
