"""How the compare grid lays out its columns: grouped by profile or by model, which columns are hidden,
and whether the columns fit the width or keep a fixed width and scroll.

Per user and per file (kept in `UiState`, never in the prototype): a shared file opens for each
person the way they left it. Pure data, no Qt, so the rules are tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from app.core.samples import MAX_SAMPLES

GroupBy = Literal["model", "profile"]
Column = tuple[str, str]
"""(profile id, model id)."""

MIN_FIT_WIDTH = 190
"""Fit mode never squeezes a column below this: past it the grid scrolls, text stays readable."""


@dataclass
class GridLayout:
    group_by: GroupBy = "model"
    fit: bool = True
    """True: visible columns share the width (text wraps); False: fixed widths, scroll sideways."""
    hidden: set[Column] = field(default_factory=set)
    samples: int = 1
    """Samples per cell that Run asks for (the engine's `repeat`)."""

    def columns(self, profiles: list[str], models: list[str]) -> list[Column]:
        """The shown columns in order: the group's members side by side."""
        if self.group_by == "profile":
            ordered = [(p, m) for p in profiles for m in models]
        else:
            ordered = [(p, m) for m in models for p in profiles]
        return [c for c in ordered if c not in self.hidden]

    def groups(self, columns: list[Column]) -> list[tuple[str, int, int]]:
        """(group id, first column index, span) for the header row above the columns."""
        out: list[tuple[str, int, int]] = []
        for index, (profile_id, model_id) in enumerate(columns):
            group = profile_id if self.group_by == "profile" else model_id
            if out and out[-1][0] == group:
                out[-1] = (group, out[-1][1], out[-1][2] + 1)
            else:
                out.append((group, index, 1))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "group_by": self.group_by,
            "fit": self.fit,
            "hidden": sorted([p, m] for p, m in self.hidden),
            "samples": self.samples,
        }

    @classmethod
    def from_json(cls, data: object) -> GridLayout:
        """Whatever was stored; anything unreadable falls back to the default, never an error."""
        if not isinstance(data, dict):
            return cls()
        group_by: GroupBy = "profile" if data.get("group_by") == "profile" else "model"
        hidden = {
            (item[0], item[1])
            for item in data.get("hidden", [])
            if isinstance(item, list) and len(item) == 2 and all(isinstance(i, str) for i in item)
        } if isinstance(data.get("hidden"), list) else set()
        samples = data.get("samples", 1)
        samples = samples if isinstance(samples, int) and 1 <= samples <= MAX_SAMPLES else 1
        return cls(group_by=group_by, fit=data.get("fit", True) is not False, hidden=hidden, samples=samples)


def column_width(room: int, count: int, *, fit: bool, fixed: int, minimum: int = MIN_FIT_WIDTH,
                 maximum: int = 10_000) -> int:
    """The width of each of `count` columns in `room` pixels."""
    if not fit or count <= 0:
        return fixed
    return max(minimum, min(maximum, room // count))
