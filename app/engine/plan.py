"""What to run: a choice of profiles, models and cases, expanded into cells in a predictable order.

Order is part of the contract: cases in file order, then samples, then the variants of that
case (profile-major, then model). The variants of one case and sample form a *group* that the
engine starts together, so side-by-side columns race fairly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from app.core.messages import build_messages
from app.core.prototype import Case, Message, ModelTarget, Profile, Prototype, UserTurnSource
from app.core.tools import mock_results, request_params
from app.engine.events import Cell

_T = TypeVar("_T", Profile, ModelTarget, Case)


class PlanError(ValueError):
    """The plan names something the prototype does not have, or asks for nothing."""


@dataclass(frozen=True)
class RunPlan:
    """Which cells to run. Empty selections mean "all of them", in file order."""

    profiles: Sequence[str] = ()
    models: Sequence[str] = ()
    cases: Sequence[str] = ()
    repeat: int = 1
    use_cache: bool = True
    baseline: bool = False
    """Run the prompted baseline instead: no system prompt, instructions or spec (for evals)."""


@dataclass(frozen=True)
class PlannedCell:
    """One cell with everything needed to send it."""

    cell: Cell
    target: ModelTarget
    messages: tuple[Message, ...]
    group: tuple[str, int]
    parent: str | None = None
    use_cache: bool = True
    error: str | None = field(default=None, compare=False)
    """Set when the cell cannot be sent at all (e.g. nothing to continue); it fails at once."""
    user_turn: UserTurnSource | None = None
    """Who wrote the last user message when not a person or the case (simulated users)."""
    tool_results: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Per tool name, the mock result the tool loop sends back (`app/core/tools.mock_results`)."""
    base_dir: str | None = field(default=None, compare=False)
    """The folder attached images are read from (the prototype's)."""


def cell_target(proto: Prototype, profile: Profile, target: ModelTarget) -> ModelTarget:
    """The target as this profile sends to it: its params plus the profile's tools."""
    params = request_params(proto, profile, target.params)
    return target if params is target.params else target.model_copy(update={"params": params})


def expand(proto: Prototype, plan: RunPlan) -> list[PlannedCell]:
    """The plan's cells in run order. Raises PlanError naming unknown ids and the known ones."""
    if plan.repeat < 1:
        raise PlanError(f"repeat must be at least 1, not {plan.repeat}")
    profiles = select(proto.profiles, plan.profiles, "profile")
    models = select(proto.models, plan.models, "model")
    cases = select(proto.cases, plan.cases, "case")
    cells: list[PlannedCell] = []
    for case in cases:
        for sample in range(plan.repeat):
            for profile in profiles:
                messages = tuple(build_messages(proto, profile, case, baseline=plan.baseline))
                results = mock_results(proto, case) if profile.tools else {}
                for target in models:
                    cell = Cell(case.id, profile.id, target.id, sample, baseline=plan.baseline)
                    group = (case.id, sample)
                    sent = target if plan.baseline else cell_target(proto, profile, target)
                    cells.append(PlannedCell(cell, sent, messages, group, use_cache=plan.use_cache,
                                             tool_results=results, base_dir=proto.base_dir))
    return cells


def select(items: list[_T], wanted: Sequence[str], kind: str) -> list[_T]:
    """The items named in `wanted` (all when empty), in file order, or PlanError listing the known ids."""
    if not items:
        raise PlanError(f"the prototype has no {kind}s")
    if not wanted:
        return list(items)
    known = [item.id for item in items]
    unknown = [name for name in dict.fromkeys(wanted) if name not in known]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise PlanError(f"unknown {kind} {names} (known: {', '.join(known)})")
    chosen = set(wanted)
    return [item for item in items if item.id in chosen]
