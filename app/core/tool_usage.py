"""How often each variant's current answers called tools: "opened a canvas in 7 of 8 answers".

Counts the current answer of every cell (`app/core/threads.cell_states`, the answer the grid shows)
of profiles that offer tools. The CLI's `report` prints it; the app can show the same rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from app.core.formfactors.canvas import canvas_opened
from app.core.prototype import Prototype
from app.core.threads import cell_states


@dataclass
class ToolUsage:
    """One variant (profile x model): answers counted, answers with a call, calls per tool."""

    profile: str
    model: str
    answers: int = 0
    with_call: int = 0
    canvas_opened: int = 0
    calls: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        per_tool = ", ".join(f"{name} {count}" for name, count in sorted(self.calls.items()))
        text = f"{self.with_call} of {self.answers} answers called a tool"
        return text + (f" ({per_tool})" if per_tool else "")


def tool_usage(proto: Prototype) -> list[ToolUsage]:
    """Per variant of a profile with tools, in file order, over the cells' current answers."""
    offering = {p.id for p in proto.profiles if p.tools}
    rows: dict[tuple[str, str], ToolUsage] = {}
    for (_, profile, model, _), state in cell_states(proto).items():
        run = state.current
        if profile not in offering or run is None or run.status not in ("ok", "cut"):
            continue
        row = rows.setdefault((profile, model), ToolUsage(profile, model))
        row.answers += 1
        row.with_call += bool(run.tool_calls)
        row.calls.update(call.name for call in run.tool_calls)
        row.canvas_opened += canvas_opened(run.output, [c.model_dump() for c in run.tool_calls]).opened
    order = {(p.id, m.id): (i, j) for i, p in enumerate(proto.profiles) for j, m in enumerate(proto.models)}
    return sorted(rows.values(), key=lambda r: order.get((r.profile, r.model), (len(order), 0)))


__all__ = ["ToolUsage", "tool_usage"]
