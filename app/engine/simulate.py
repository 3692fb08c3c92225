"""Simulated conversations: after each reply, a simulator model (or a script) writes the next user
message, and the column continues its thread, until the user is done or `max_turns` is reached.

Every column (profile x model) of a simulated case gets its own conversation, with the same persona
and the same seed, so columns meet the same user as long as they answer alike. Each turn is a normal
run continuing its parent (`Run.parent`, as a typed follow-up), marked with `user_turn`, so ratings,
A/B and assertions work on it. Simulator requests and replies are both cells of the engine's one
scheduler, so they share the global, per-provider and per-target limits and are cancelled with
their column. Prompt, schema and reply parsing are pure core (`app/core/simulation.py`).

A case with no fixed turn opens with the simulated user: it writes the first message once per
case and sample (no column has replied yet, so every column would be asked the same thing), and
each column's first run answers it (`user_turn` set on a run with no parent).

A fault never loses what was said: a failed reply ends the conversation as that run's error; a
simulator that fails or answers something unreadable ends it with an `error` run continuing the
last reply, whose error text says why (the thread is marked). Cancelling keeps the turns so far.
How it ended is stored on the last stored run (`Run.conversation_end`) and told by `ConversationEnded`.
Simulator requests are counted apart in `Progress` (`simulator_*`): they are real model calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from app.core.messages import continue_messages
from app.core.placeholders import render_vars
from app.core.prototype import (
    Case,
    ConversationEnd,
    ConversationEndBy,
    Message,
    ModelParams,
    ModelTarget,
    Prototype,
    Run,
    UserTurnSource,
)
from app.core.results import worth_storing
from app.core.simulation import (
    OPENING_FORMAT,
    SIMULATOR_FORMAT,
    SIMULATOR_MAX_TOKENS,
    SimulatorProblem,
    most_replies,
    opens_conversation,
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


def simulator_target(proto: Prototype, case: Case, *, opening: bool = False) -> ModelTarget:
    """The simulator's target with its request params: the case's seed, the turn schema as
    `response_format` (unless the target sets its own; `opening`: the first message's, which
    cannot be done or empty), and a token cap (unless it sets one).

    Raises KeyError naming the known targets when the case names an unknown one."""
    sim = case.simulated_user
    assert sim is not None
    target = BUNDLED_SIMULATOR if sim.model is None else proto.model(sim.model)
    update: dict[str, Any] = {"seed": seed_for(case)}
    if target.params.response_format is None:
        update["response_format"] = OPENING_FORMAT if opening else SIMULATOR_FORMAT
    if target.params.max_tokens is None:
        update["max_tokens"] = SIMULATOR_MAX_TOKENS
    params = ModelParams.model_validate({**target.params.model_dump(), **update})
    return target.model_copy(update={"params": params})


# -- progress over many batches ---------------------------------------------------------------------


@dataclass
class _Progress:
    """One Progress for the whole call: each conversation counts its first reply + max_turns
    replies until it ends, then the replies it really had. The sub-batches' own Progress events
    are dropped. Simulator requests are counted apart (`simulator_*`)."""

    sink: EventSink
    total: int
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    tokens: int = 0
    cost: float | None = None
    cost_unknown: int = 0
    sim_calls: int = 0
    sim_tokens: int = 0
    sim_cost: float | None = None
    sim_cost_unknown: int = 0

    def forward(self, event: EngineEvent) -> None:
        if isinstance(event, Progress):
            return
        self.sink(event)
        if isinstance(event, CellFinished | CellFailed | CellCancelled):
            run = event.run
            self.done += 1
            self.failed += run.status in ("error", "cut")
            self.cancelled += run.status == "cancelled"
            self.tokens += _tokens(run)
            if run.cost_usd is not None:
                self.cost = (self.cost or 0.0) + run.cost_usd
            elif run.output or run.status == "ok":
                self.cost_unknown += 1
            self.emit()

    def simulator(self, run: Run) -> None:
        """Count a simulator request: a real model call, but not a cell."""
        if run.status == "cancelled" and not run.output:
            return
        self.sim_calls += 1
        self.sim_tokens += _tokens(run)
        if run.cost_usd is not None:
            self.sim_cost = (self.sim_cost or 0.0) + run.cost_usd
        elif run.output or run.status == "ok":
            self.sim_cost_unknown += 1
        self.emit()

    def shrink(self, replies_not_taken: int) -> None:
        if replies_not_taken > 0:
            self.total -= replies_not_taken
            self.emit()

    def emit(self) -> None:
        self.sink(Progress(self.done, self.total, self.tokens, self.cost, self.failed, self.cancelled,
                           self.cost_unknown, self.sim_calls, self.sim_tokens, self.sim_cost,
                           self.sim_cost_unknown))


def _tokens(run: Run) -> int:
    return (run.usage.prompt_tokens or 0) + (run.usage.completion_tokens or 0)


# -- running ----------------------------------------------------------------------------------------


async def run_conversations(
    engine: Engine, proto: Prototype, planned: Sequence[PlannedCell], on_event: EventSink
) -> list[Run]:
    """Run the planned cells; simulated cases as conversations. Returns every run, in plan order,
    each simulated cell's first reply followed by its continuations (the last one carrying
    `conversation_end`)."""
    cases = {c.id: c for c in proto.cases}
    plain: list[PlannedCell] = []
    groups: dict[tuple[str, int], list[PlannedCell]] = {}
    for item in planned:
        case = cases[item.cell.case]
        if case.simulated_user is None or item.cell.baseline:
            plain.append(item)
        else:
            groups.setdefault(item.group, []).append(item)
    budget = sum(_budget(proto, cases[c.cell.case], c) for cells in groups.values() for c in cells)
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
            opening = [c for c in conversations if c.opens]
            first = await _write_message(
                engine, proto, case, opening[0].planned, [], turn=1, progress=progress,
                cancelled=lambda: any(c.cancelled for c in opening),
            ) if opening else None
            starts = [c.start(first) for c in conversations]
            sent = [(c, cell) for c, cell in zip(conversations, starts, strict=True) if cell is not None]
            roots = await engine.run_cells([cell for _, cell in sent], progress.forward)  # together
            await asyncio.gather(*(c.go(root) for (c, _), root in zip(sent, roots, strict=True)))
        finally:
            for stop in stops:
                stop()
            for c in conversations:
                c.finish()
                by_cell[c.planned.cell] = c.runs

    jobs = [group(cells) for cells in groups.values()]
    if plain:
        jobs.insert(0, plain_cells())
    await asyncio.gather(*jobs)
    return [run for item in planned for run in by_cell.get(item.cell, [])]


_Written = tuple[str, UserTurnSource] | ConversationEnd
"""The next user message and who wrote it, or how the conversation ends."""


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
    end: ConversationEnd | None = None
    opens: bool = False
    """The simulated user writes the first message (no fixed turn)."""

    def __post_init__(self) -> None:
        profile = next((p for p in self.proto.profiles if p.id == self.planned.cell.profile), None)
        self.opens = opens_conversation(self.case, profile)

    def on_cancel(self, match: Callable[[Cell], bool]) -> None:
        if match(self.planned.cell):
            self.cancelled = True

    def start(self, first: _Written | None) -> PlannedCell | None:
        """The cell of this column's first reply: the planned one, or, when the simulated user opens
        the conversation, the planned messages plus its first message (`first`). None when the
        conversation ended before it (cancelled); a fault becomes a failed cell saying why."""
        if not self.opens:
            return self.planned
        sim = self.case.simulated_user
        assert sim is not None and first is not None
        if isinstance(first, ConversationEnd):
            if first.by == "done":  # nothing was said: there is no conversation to keep
                first = ConversationEnd(by="simulator_fault", reason="the simulated user was done before "
                                        f"writing a first message ({first.reason or 'no reason given'})")
            self.end = first
            if first.by == "cancelled":
                return None
            self.marked += 1
            return replace(self.planned, error=f"{_FAULT}: {first.reason}", user_turn="simulated")
        text, source = first
        self.turns = 1
        self.progress.sink(UserTurnWritten(self.planned.cell, text, source, 1))
        messages = (*self.planned.messages, Message(role="user", content=text))
        return replace(self.planned, messages=messages, user_turn=source)

    async def go(self, root: Run) -> None:
        sim = self.case.simulated_user
        assert sim is not None
        self.runs = [root]
        previous = root
        while self.end is None:
            self.end = self._ended(previous)
            if self.end is not None:
                break
            turn = self.turns + 1
            written = await _write_message(
                self.engine, self.proto, self.case, self.planned,
                [*previous.messages, Message(role="assistant", content=previous.output)],
                turn=turn, progress=self.progress, cancelled=lambda: self.cancelled,
            )
            if isinstance(written, ConversationEnd):
                self.end = written
                if written.by == "simulator_fault":
                    await self._mark_fault(previous, f"{_FAULT}: {written.reason}")
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

    def _ended(self, previous: Run) -> ConversationEnd | None:
        """How the conversation ends after `previous`, or None to go on."""
        sim = self.case.simulated_user
        assert sim is not None
        if previous.status != "ok":
            if previous.status == "cancelled":
                return ConversationEnd(by="cancelled")
            return ConversationEnd(by="reply_fault", reason=previous.error or previous.status)
        if self.cancelled:
            return ConversationEnd(by="cancelled")
        if sim.script and self.turns >= len(sim.script):
            return ConversationEnd(by="script_end", reason=f"{len(sim.script)} scripted messages sent")
        if self.turns >= sim.max_turns:
            return ConversationEnd(by="max_turns", reason=f"max_turns ({sim.max_turns}) reached")
        return None

    def finish(self) -> None:
        """Settle the progress, store the end on the last run worth storing, and say how it ended."""
        sim = self.case.simulated_user
        assert sim is not None
        self.progress.shrink(sim.max_turns - self.turns - self.marked)  # see `_budget`
        if self.end is None:  # interrupted from outside (the task was cancelled)
            self.end = ConversationEnd(by="cancelled")
        last = next((i for i in range(len(self.runs) - 1, -1, -1) if worth_storing(self.runs[i])), None)
        last_id = None
        if last is not None:
            self.runs[last] = self.runs[last].model_copy(update={"conversation_end": self.end})
            last_id = self.runs[last].id
        failed = self.end.by in ("simulator_fault", "reply_fault")
        self.progress.sink(ConversationEnded(self.planned.cell, _reason(self.end), self.turns, failed,
                                             self.end, last_id))

    async def _mark_fault(self, previous: Run, why: str) -> None:
        """Store the fault on the thread: an `error` run continuing the last reply, with no new
        user message (a follow-up still continues the last answer: errors are not answers)."""
        messages = (*previous.messages, Message(role="assistant", content=previous.output))
        cell = PlannedCell(self.planned.cell, self.planned.target, messages, self.planned.group,
                           parent=previous.id, error=why, user_turn="simulated")
        self.marked += 1
        (run,) = await self.engine.run_cells([cell], self.progress.forward)
        self.runs.append(run)


async def _write_message(
    engine: Engine, proto: Prototype, case: Case, planned: PlannedCell, history: list[Message], *,
    turn: int, progress: _Progress, cancelled: Callable[[], bool],
) -> _Written:
    """User message `turn` after `history`, from the script or the simulator, or how it ends."""
    sim = case.simulated_user
    assert sim is not None
    if sim.script:
        return render_vars(sim.script[turn - 1], case.vars), "scripted"
    try:
        target = simulator_target(proto, case, opening=not history)
    except KeyError as exc:
        return _end("simulator_fault", str(exc.args[0]))
    asked = PlannedCell(planned.cell, target, tuple(simulator_messages(sim, history, turn)), planned.group,
                        use_cache=planned.use_cache)
    (answer,) = await engine.run_cells([asked], _ignore)
    progress.simulator(answer)
    if answer.status == "cancelled" or cancelled():
        return _end("cancelled", "")
    if answer.status != "ok":
        return _end("simulator_fault", f"({target.label}) {answer.error or answer.status}")
    reply = parse_reply(answer.output)
    if isinstance(reply, SimulatorProblem):
        return _end("simulator_fault", reply.reason)
    if reply.done:
        return _end("done", reply.reason)
    return reply.message, "simulated"


def _end(by: ConversationEndBy, reason: str) -> ConversationEnd:
    return ConversationEnd(by=by, reason=reason)


_FAULT = "simulated user failed"


def _reason(end: ConversationEnd) -> str:
    """The event's one-line reason, worded as before this was stored (`run` prints it)."""
    if end.by == "done":
        return f"done: {end.reason}" if end.reason else "done"
    if end.by == "script_end":
        return "script finished"
    if end.by == "simulator_fault":
        return f"{_FAULT}: {end.reason}"
    if end.by == "reply_fault":
        return f"the reply failed: {end.reason}"
    if end.by == "cancelled":
        return "cancelled"
    return end.reason or end.by


def _budget(proto: Prototype, case: Case, planned: PlannedCell) -> int:
    """Replies a conversation may take (`simulation.most_replies`)."""
    profile = next((p for p in proto.profiles if p.id == planned.cell.profile), None)
    return most_replies(case, profile)


def _ignore(_event: EngineEvent) -> None:
    """Simulator cells are the engine's business, not the grid's: their events go nowhere."""
