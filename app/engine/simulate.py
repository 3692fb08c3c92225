"""Simulated conversations: after each reply, a simulator model (or a script) writes the next user
message, and the column continues its thread, until the user is done or `max_turns` is reached.

Every column (profile x model) of a simulated case gets its own conversation, with the same persona
and the same seed, so columns meet the same user as long as they answer alike. Each turn is a normal
run continuing its parent (`Run.parent`, as a typed follow-up), marked with `user_turn`, so ratings,
A/B and assertions work on it. Simulator requests and replies are both cells of the engine's one
scheduler, so they share the global, per-provider and per-target limits and are cancelled with
their column. Prompt, schema and reply parsing are pure core (`app/core/simulation.py`).

A fault never loses what was said: a failed reply ends the conversation as that run's error; a
simulator that fails or answers something unreadable ends it with an `error` run continuing the
last reply, whose error text says why (the thread is marked). Cancelling keeps the turns so far.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.core.messages import continue_messages
from app.core.placeholders import render_vars
from app.core.prototype import Case, Message, ModelParams, ModelTarget, Prototype, Run, UserTurnSource
from app.core.simulation import (
    SIMULATOR_FORMAT,
    SIMULATOR_MAX_TOKENS,
    SimulatorProblem,
    parse_reply,
    seed_for,
    simulator_messages,
)
from app.engine.events import (
    Cell,
    CellCancelled,
    CellFailed,
    CellFinished,
    ConversationEnded,
    EngineEvent,
    Progress,
    UserTurnWritten,
)
from app.engine.plan import PlannedCell
from app.providers.model_files import LOCAL_MODEL_ID
from app.providers.registry import LOCAL_ID

if TYPE_CHECKING:
    from app.engine.engine import Engine

EventSink = Callable[[EngineEvent], None]

BUNDLED_SIMULATOR = ModelTarget(id="simulated-user", provider=LOCAL_ID, model=LOCAL_MODEL_ID)
"""The simulator when a case names no model target: the bundled model, offline."""


def has_simulated(proto: Prototype, planned: Sequence[PlannedCell]) -> bool:
    """Whether any planned cell is a simulated case (baseline cells never are: evals grade the
    baseline on the case's own turns)."""
    simulated = {c.id for c in proto.cases if c.simulated_user is not None}
    return any(p.cell.case in simulated and not p.cell.baseline for p in planned)


def simulator_target(proto: Prototype, case: Case) -> ModelTarget:
    """The simulator's target with its request params: the case's seed, the turn schema as
    `response_format` (unless the target sets its own), and a token cap (unless it sets one).

    Raises KeyError naming the known targets when the case names an unknown one."""
    sim = case.simulated_user
    assert sim is not None
    target = BUNDLED_SIMULATOR if sim.model is None else proto.model(sim.model)
    update: dict[str, Any] = {"seed": seed_for(case)}
    if target.params.response_format is None:
        update["response_format"] = SIMULATOR_FORMAT
    if target.params.max_tokens is None:
        update["max_tokens"] = SIMULATOR_MAX_TOKENS
    params = ModelParams.model_validate({**target.params.model_dump(), **update})
    return target.model_copy(update={"params": params})


# -- progress over many batches ---------------------------------------------------------------------


@dataclass
class _Progress:
    """One Progress for the whole call: each conversation counts 1 + max_turns replies until it
    ends, then the replies it really had. The sub-batches' own Progress events are dropped."""

    sink: EventSink
    total: int
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    tokens: int = 0
    cost: float | None = None
    cost_unknown: int = 0

    def forward(self, event: EngineEvent) -> None:
        if isinstance(event, Progress):
            return
        self.sink(event)
        if isinstance(event, CellFinished | CellFailed | CellCancelled):
            run = event.run
            self.done += 1
            self.failed += run.status in ("error", "cut")
            self.cancelled += run.status == "cancelled"
            self.tokens += (run.usage.prompt_tokens or 0) + (run.usage.completion_tokens or 0)
            if run.cost_usd is not None:
                self.cost = (self.cost or 0.0) + run.cost_usd
            elif run.output or run.status == "ok":
                self.cost_unknown += 1
            self.emit()

    def shrink(self, replies_not_taken: int) -> None:
        if replies_not_taken > 0:
            self.total -= replies_not_taken
            self.emit()

    def emit(self) -> None:
        self.sink(Progress(self.done, self.total, self.tokens, self.cost, self.failed, self.cancelled,
                           self.cost_unknown))


# -- running ----------------------------------------------------------------------------------------


async def run_conversations(
    engine: Engine, proto: Prototype, planned: Sequence[PlannedCell], on_event: EventSink
) -> list[Run]:
    """Run the planned cells; simulated cases as conversations. Returns every run, in plan order,
    each simulated cell's first reply followed by its continuations."""
    cases = {c.id: c for c in proto.cases}
    plain: list[PlannedCell] = []
    groups: dict[tuple[str, int], list[PlannedCell]] = {}
    for item in planned:
        case = cases[item.cell.case]
        if case.simulated_user is None or item.cell.baseline:
            plain.append(item)
        else:
            groups.setdefault(item.group, []).append(item)
    budget = sum(1 + _max_turns(cases[c.cell.case]) for cells in groups.values() for c in cells)
    progress = _Progress(on_event, len(plain) + budget)
    by_cell: dict[Cell, list[Run]] = {}

    async def plain_cells() -> None:
        for run, item in zip(await engine.run_cells(plain, progress.forward), plain, strict=True):
            by_cell[item.cell] = [run]

    async def group(cells: list[PlannedCell]) -> None:
        case = cases[cells[0].cell.case]
        conversations = [_Conversation(engine, proto, case, item, progress) for item in cells]
        stops = [engine.watch_cancel(c.on_cancel) for c in conversations]
        try:
            roots = await engine.run_cells(cells, progress.forward)  # columns start together
            await asyncio.gather(*(c.go(root) for c, root in zip(conversations, roots, strict=True)))
        finally:
            for stop in stops:
                stop()
            for c in conversations:
                by_cell[c.planned.cell] = c.runs

    jobs = [group(cells) for cells in groups.values()]
    if plain:
        jobs.insert(0, plain_cells())
    await asyncio.gather(*jobs)
    return [run for item in planned for run in by_cell.get(item.cell, [])]


@dataclass(eq=False)
class _Conversation:
    """One column's simulated conversation on one case and sample."""

    engine: Engine
    proto: Prototype
    case: Case
    planned: PlannedCell
    progress: _Progress
    runs: list[Run] = field(default_factory=list)
    cancelled: bool = False
    turns: int = 0
    marked: int = 0
    """Error runs added to mark a simulator fault (counted as done in the progress)."""

    def on_cancel(self, match: Callable[[Cell], bool]) -> None:
        if match(self.planned.cell):
            self.cancelled = True

    async def go(self, root: Run) -> None:
        sim = self.case.simulated_user
        assert sim is not None
        self.runs = [root]
        previous = root
        reason, failed = "", False
        try:
            while True:
                if previous.status != "ok":
                    reason, failed = _failure(previous), previous.status != "cancelled"
                    break
                if self.cancelled:
                    reason = "cancelled"
                    break
                if sim.script and self.turns >= len(sim.script):
                    reason = "script finished"
                    break
                if self.turns >= sim.max_turns:
                    reason = f"max_turns ({sim.max_turns}) reached"
                    break
                turn = self.turns + 1
                written = await self._next_message(previous, turn)
                if isinstance(written, str):  # the conversation ends here
                    reason, failed = written, written.startswith(_FAULT)
                    if failed:
                        await self._mark_fault(previous, written)
                    break
                text, source = written
                self.turns = turn
                self.progress.sink(UserTurnWritten(self.planned.cell, text, source, turn))
                cell = PlannedCell(
                    self.planned.cell, self.planned.target, tuple(continue_messages(previous, text)),
                    self.planned.group, parent=previous.id, use_cache=self.planned.use_cache,
                    user_turn=source, tool_results=self.planned.tool_results, base_dir=self.planned.base_dir,
                )
                (previous,) = await self.engine.run_cells([cell], self.progress.forward)
                self.runs.append(previous)
        finally:
            self.progress.shrink(sim.max_turns - self.turns - self.marked)
            if reason:
                self.progress.sink(ConversationEnded(self.planned.cell, reason, self.turns, failed))

    async def _next_message(self, previous: Run, turn: int) -> tuple[str, UserTurnSource] | str:
        """The next user message and who wrote it, or why the conversation ends (a fault starts
        with `_FAULT`)."""
        sim = self.case.simulated_user
        assert sim is not None
        if sim.script:
            return render_vars(sim.script[turn - 1], self.case.vars), "scripted"
        try:
            target = simulator_target(self.proto, self.case)
        except KeyError as exc:
            return f"{_FAULT}: {exc.args[0]}"
        history = [*previous.messages, Message(role="assistant", content=previous.output)]
        asked = PlannedCell(
            self.planned.cell, target, tuple(simulator_messages(sim, history, turn)), self.planned.group,
            use_cache=self.planned.use_cache,
        )
        (answer,) = await self.engine.run_cells([asked], _ignore)
        if answer.status == "cancelled" or self.cancelled:
            return "cancelled"
        if answer.status != "ok":
            return f"{_FAULT} ({target.label}): {answer.error or answer.status}"
        reply = parse_reply(answer.output)
        if isinstance(reply, SimulatorProblem):
            return f"{_FAULT}: {reply.reason}"
        if reply.done:
            return f"done: {reply.reason}" if reply.reason else "done"
        return reply.message, "simulated"

    async def _mark_fault(self, previous: Run, why: str) -> None:
        """Store the fault on the thread: an `error` run continuing the last reply, with no new
        user message (a follow-up still continues the last answer: errors are not answers)."""
        messages = (*previous.messages, Message(role="assistant", content=previous.output))
        cell = PlannedCell(self.planned.cell, self.planned.target, messages, self.planned.group,
                           parent=previous.id, error=why, user_turn="simulated")
        self.marked += 1
        (run,) = await self.engine.run_cells([cell], self.progress.forward)
        self.runs.append(run)


_FAULT = "simulated user failed"


def _max_turns(case: Case) -> int:
    return case.simulated_user.max_turns if case.simulated_user is not None else 0


def _failure(run: Run) -> str:
    if run.status == "cancelled":
        return "cancelled"
    return f"the reply failed: {run.error or run.status}"


def _ignore(_event: EngineEvent) -> None:
    """Simulator cells are the engine's business, not the grid's: their events go nowhere."""
