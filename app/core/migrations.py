"""Format upgrades as pure dict transforms: `MIGRATIONS[n]` turns a version-n document into n+1.

v1 -> v2 (the `prompts:` table) lives in `app/core/prompts.py`; `app/core/document.py` lists both.

Each step works on plain data before validation, so it must not assume anything the step does not
own (for example how run messages are laid out).
"""

from __future__ import annotations

from typing import Any


def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Raters: a run's single `rating:` becomes `ratings: [ ... ]` with no rater ("unknown").

    Empty ratings are dropped; votes need nothing (their new `rater` and `swapped` default to empty/false).
    """
    runs = data.get("runs")
    if not isinstance(runs, list):
        return data
    for run in runs:
        if not isinstance(run, dict) or "rating" not in run:
            continue
        rating = run.pop("rating")
        if isinstance(rating, dict):
            if rating.get("thumb") is None and not rating.get("note") and not rating.get("tags"):
                continue
        elif rating is None:
            continue
        ratings = run.get("ratings")
        run["ratings"] = [rating, *(ratings if isinstance(ratings, list) else [])]
    return data
