"""What `protostudio status` reports for each cell, from the same core cell states the grid shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.conversations import said
from app.core.prototype import Prototype, Run
from app.core.simulation import end_words
from app.core.threads import ANSWERED, CellKey, CellState, cell_states


@dataclass(frozen=True)
class CellStatus:
    """One cell (case x profile x model x sample) as a person would see it in the grid."""

    key: CellKey
    state: CellState
    samples: int
    """How many samples this variant has on this case (0 when never run)."""

    @property
    def current(self) -> Run | None:
        return self.state.tip

    @property
    def answered(self) -> bool:
        tip = self.state.tip
        return tip is not None and tip.status in ANSWERED

    def to_json(self) -> dict[str, Any]:
        case, profile, model, sample = self.key
        tip = self.state.tip
        return {
            "profile": profile,
            "model": model,
            "case": case,
            "sample": sample,
            "run": tip.id if tip is not None else None,
            "rating": self.state.team_thumb,
            "stale": self.state.stale,
            "samples": self.samples,
            "status": tip.status if tip is not None else None,
            "answers": len(self.state.answers),
        } | self._conversation()

    def _conversation(self) -> dict[str, Any]:
        """Only for a simulated conversation (so other files' output is as it was): how it ended,
        and how many user messages the simulated user or script wrote."""
        end = self.state.conversation_end
        if end is None:
            return {}
        written = sum(bool(said(r)) for r in self.state.thread)
        return {"conversation_end": end.model_dump(mode="json"), "user_turns": written,
                "ended": end_words(end)}

    @property
    def ended(self) -> str:
        """How the cell's simulated conversation ended, in words; "" when it is not one."""
        end = self.state.conversation_end
        return end_words(end) if end is not None else ""


def cell_statuses(proto: Prototype) -> list[CellStatus]:
    """Every cell of the matrix in grid order (cases, then profiles, then models, then samples).

    A variant never run on a case is one row with no run; otherwise one row per sample it has.
    """
    states = cell_states(proto)
    samples: dict[tuple[str, str, str], set[int]] = {}
    for case_id, profile_id, model_id, sample in states:
        samples.setdefault((case_id, profile_id, model_id), set()).add(sample)
    rows: list[CellStatus] = []
    for case in proto.cases:
        for profile in proto.profiles:
            for model in proto.models:
                variant = (case.id, profile.id, model.id)
                indices = sorted(samples.get(variant, ())) or [0]
                for sample in indices:
                    key = (*variant, sample)
                    state = states.get(key, CellState(key))
                    rows.append(CellStatus(key, state, len(samples.get(variant, ()))))
    return rows


def totals(rows: list[CellStatus]) -> dict[str, int]:
    """Counts over the cells: how many answered, rated up/down, out of date, failed, never run."""
    out = {"cells": len(rows), "answered": 0, "up": 0, "down": 0, "unrated": 0, "stale": 0,
           "failed": 0, "not_run": 0}
    for row in rows:
        tip = row.state.tip
        if tip is None:
            out["not_run"] += 1
            continue
        if row.answered:
            out["answered"] += 1
            thumb = row.state.team_thumb
            out["up" if thumb == "up" else "down" if thumb == "down" else "unrated"] += 1
        else:
            out["failed"] += 1
        if row.state.stale:
            out["stale"] += 1
    return out


__all__ = ["CellStatus", "cell_statuses", "totals"]
