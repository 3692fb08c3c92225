"""The engine: sends planned cells through the provider hub, concurrently and in order, and reports events.

One asyncio scheduler serves every `run()` and `continue_case()` call, so all of them share
the global limit and the per-provider limits. The scheduler walks queued cells in plan order
and starts each one whose provider and model target have a free slot. The variants of one case
and sample (a *group*) start in the same tick, once there is room for all of them, so
side-by-side columns race fairly.

One fault stays in one target (endpoint + model): a 429 halves that target's limit, pauses it
for Retry-After (bounded) and puts the cell back in its place; successes grow the limit back. A
request that has produced nothing for `stall_after` seconds (hung) gives back its global and
provider slots, keeping only its target's, and a column whose target is paused or hung no longer
makes the other columns of its case wait: a sibling's fault never delays a healthy target.

The engine never mutates the prototype: finished, failed and cancelled cells are reported as
complete `Run` objects, and the caller decides where they go (the UI's document, or
`ResultWriter` for headless runs). Call the engine from its event loop's thread only; from
another thread go through `EngineThread.call`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

from app.core.messages import continue_messages
from app.core.prototype import Message, ModelTarget, Prototype, Run, RunStatus
from app.core.threads import answer_for_continuation
from app.core.tools import mock_results
from app.engine.events import (
    Cell,
    CellCancelled,
    CellDelta,
    CellFailed,
    CellFinished,
    CellQueued,
    CellStarted,
    EngineEvent,
    Progress,
)
from app.engine.limits import AdaptiveLimit, provider_key, target_key
from app.engine.plan import PlanError, PlannedCell, RunPlan, cell_target, expand, select
from app.engine.runs import Attempt, make_run
from app.engine.simulate import has_simulated, run_conversations
from app.engine.tool_loop import ToolAnswered, cell_stream, tool_event
from app.providers import retry
from app.providers.events import (
    ErrorKind,
    Finished,
    Started,
    StreamFailed,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)

log = logging.getLogger(__name__)

EventSink = Callable[[EngineEvent], None]
"""Receives every event of one run, on the engine's loop thread. It must not block."""

RETRYABLE = retry.TRANSIENT
"""Failures worth one more try when no text arrived yet (`app/providers/retry.py`, shared with
the hub). Rate limits have their own path."""
_TARGET_FAULTS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.TIMEOUT, ErrorKind.SERVER,
                            ErrorKind.UNREACHABLE})
"""Failures that say the target itself is in trouble: its columns stop holding back their siblings."""
DEFAULT_PROVIDER_CAPS: Mapping[str, int] = MappingProxyType({"local": 1})
"""The caps for a hub that does not say how many requests the bundled model serves at once."""


def default_provider_caps(hub: object) -> Mapping[str, int]:
    """{"local": the bundled model's slot count} when the hub knows it, else DEFAULT_PROVIDER_CAPS."""
    slots = getattr(hub, "local_slots", None)
    return {"local": max(1, slots)} if isinstance(slots, int) else DEFAULT_PROVIDER_CAPS


class StreamingHub(Protocol):
    """What the engine needs from `app.providers.hub.ProviderHub`."""

    def stream(
        self, target: ModelTarget, messages: list[Message], *, use_cache: bool = True,
        max_retries: int | None = None, sample: int = 0,
    ) -> Any: ...


@dataclass(eq=False)
class _Batch:
    """The cells of one `run()` call and the subscriber that hears about them."""

    sink: EventSink
    jobs: list[_Job] = field(default_factory=list)
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    tokens: int = 0
    cost: float | None = None
    cost_unknown: int = 0
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def emit(self, event: EngineEvent) -> None:
        try:
            self.sink(event)
        except Exception:  # a broken subscriber must not stop the run
            log.exception("engine event subscriber failed on %s", type(event).__name__)

    def record(self, run: Run) -> None:
        self.done += 1
        self.failed += run.status in ("error", "cut")
        self.cancelled += run.status == "cancelled"
        self.tokens += (run.usage.prompt_tokens or 0) + (run.usage.completion_tokens or 0)
        if run.cost_usd is not None:
            self.cost = (self.cost or 0.0) + run.cost_usd
        elif run.output or run.status == "ok":  # text was generated, so something was billed
            self.cost_unknown += 1

    def progress(self) -> Progress:
        return Progress(self.done, len(self.jobs), self.tokens, self.cost, self.failed, self.cancelled,
                        self.cost_unknown)


@dataclass(eq=False)
class _Job:
    planned: PlannedCell
    batch: _Batch
    state: Literal["pending", "running", "done"] = "pending"
    not_before: float = 0.0
    rate_limited: int = 0
    retried: int = 0
    task: asyncio.Task[None] | None = None
    run: Run | None = None
    shared: bool = False
    """Holds a global and a provider slot (running and not stalled)."""
    answering: bool = False
    stall_timer: asyncio.TimerHandle | None = None
    pkey: str = field(init=False)
    """The provider endpoint's limit key, computed once: `_pump` reads it for every queued cell."""
    tkey: str = field(init=False)
    """The model target's limit key, computed once."""

    def __post_init__(self) -> None:
        self.pkey = provider_key(self.planned.target)
        self.tkey = target_key(self.planned.target)

    @property
    def cell(self) -> Cell:
        return self.planned.cell


@dataclass(eq=False)
class _Group:
    jobs: list[_Job] = field(default_factory=list)
    fresh: bool = True
    """No cell of the group has started yet: it waits until all of them can start together."""


class Engine:
    """Runs cells through a hub. `concurrency` is the global limit, `per_provider` each endpoint's.

    `provider_limits` sets the limit of named endpoints (provider id, or `id|base_url` for an
    overridden one) instead of `per_provider`; `provider_caps` lowers it further.
    By default the bundled model gets as many as it has decoding slots
    (`hub.local_slots`): llama.cpp would only queue more, and queued requests can time out.
    `start_together=False` drops the wait that lets a case's columns start in the same tick:
    cells then take any free slot in plan order (for headless runs nobody watches race).
    `stall_after`: seconds without an answer after which a request counts as hung and gives back
    its global and provider slots (None: never); capped endpoints such as the bundled model queue
    requests themselves, so theirs never count as hung.
    """

    def __init__(
        self,
        hub: StreamingHub,
        *,
        concurrency: int = 8,
        per_provider: int = 4,
        recover_after: int = 5,
        max_rate_limit_retries: int = 6,
        max_retry_wait: float = 30.0,
        retries: int = 2,
        provider_caps: Mapping[str, int] | None = None,
        provider_limits: Mapping[str, int] | None = None,
        start_together: bool = True,
        stall_after: float | None = 10.0,
    ) -> None:
        self._hub = hub
        self._caps = dict(default_provider_caps(hub) if provider_caps is None else provider_caps)
        self._provider_limits = {k: max(1, v) for k, v in (provider_limits or {}).items()}
        self._stall_after = stall_after
        self._provider_in_flight: Counter[str] = Counter()
        self._stalled: Counter[str] = Counter()
        self._faulty: set[str] = set()
        """Targets whose last request failed (429, hang, timeout, 5xx) and none has answered since."""
        self._concurrency = max(1, concurrency)
        self._per_provider = max(1, per_provider)
        self._recover_after = recover_after
        self._max_rate_limit_retries = max_rate_limit_retries
        self._max_retry_wait = max_retry_wait
        self._retries = retries
        self._limits: dict[str, AdaptiveLimit] = {}
        self._paused_until: dict[str, float] = {}
        self._groups: list[_Group] = []
        self._running = 0
        self._timer: asyncio.TimerHandle | None = None
        self._start_together = start_together
        self._cancel_watchers: list[Callable[[Callable[[Cell], bool]], None]] = []

    # -- public API ---------------------------------------------------------------------------------

    async def run(self, proto: Prototype, plan: RunPlan, on_event: EventSink) -> list[Run]:
        """Run the plan's cells; returns one Run per cell, in plan order, once all have ended.

        Raises PlanError (before anything is sent) when the plan names unknown ids.
        Cases with a simulated user run as conversations (`app/engine/simulate.py`): their
        continuations follow their first reply in the list.
        """
        planned = expand(proto, plan)
        # -- simulated users (issue 11): conversations, in their own module --
        if has_simulated(proto, planned):
            return await run_conversations(self, proto, planned, on_event)
        # -- end simulated users --
        return await self._run_planned(planned, on_event)

    async def run_cells(self, planned: Sequence[PlannedCell], on_event: EventSink) -> list[Run]:
        """Run cells planned outside a prototype's matrix (conversations, simulator turns, generated
        cases) through the same scheduler and limits. Each `PlannedCell` names its own target and
        messages; cells of one `group` start together."""
        return await self._run_planned(planned, on_event)

    def watch_cancel(self, watcher: Callable[[Callable[[Cell], bool]], None]) -> Callable[[], None]:
        """Call `watcher(match)` on every cancel request (cancel_all/case/cell), so a loop between
        cells (a simulated conversation) hears it even when none of its cells is queued; returns
        the function that stops watching."""
        self._cancel_watchers.append(watcher)
        return lambda: self._cancel_watchers.remove(watcher)

    async def continue_case(
        self,
        proto: Prototype,
        case_id: str,
        user_message: str,
        columns: Iterable[tuple[str, str]],
        on_event: EventSink,
        *,
        use_cache: bool = True,
    ) -> list[Run]:
        """Send `user_message` as the next turn of each column's latest thread on this case.

        A column is a (profile id, model id) pair. Each continues the newest answered reply of its
        current thread (`app.core.threads`, the one the grid shows); the new Run has `parent` set to
        it. A column with no run to continue fails at once with a message saying so; the others go ahead.
        """
        select(proto.cases, [case_id], "case")
        columns = list(dict.fromkeys(columns))
        select(proto.profiles, [p for p, _ in columns], "profile")
        select(proto.models, [m for _, m in columns], "model")
        if not user_message.strip():
            raise PlanError("the next message is empty")
        planned: list[PlannedCell] = []
        for profile_id, model_id in columns:
            target = proto.model(model_id)
            previous = answer_for_continuation(proto, case_id, profile_id, model_id)
            if previous is None:
                cell = Cell(case_id, profile_id, model_id)
                planned.append(PlannedCell(cell, target, (), (case_id, 0), use_cache=use_cache,
                                           error="nothing to continue: run this cell first"))
                continue
            cell = Cell(case_id, profile_id, model_id, previous.sample)
            messages = tuple(continue_messages(previous, user_message))
            profile, case = proto.profile(profile_id), proto.case(case_id)  # its tools, the case's mocks
            planned.append(PlannedCell(cell, cell_target(proto, profile, target), messages, (case_id, 0),
                                       parent=previous.id, use_cache=use_cache,
                                       tool_results=mock_results(proto, case) if profile.tools else {},
                                       base_dir=proto.base_dir))
        return await self._run_planned(planned, on_event)

    def cancel_all(self) -> None:
        """Cancel every queued and running cell of every run."""
        self._cancel(lambda cell: True)

    def cancel_case(self, case_id: str) -> None:
        self._cancel(lambda cell: cell.case == case_id)

    def cancel_cell(self, cell: Cell) -> None:
        self._cancel(lambda c: c == cell)

    def configure(self, *, concurrency: int | None = None, per_provider: int | None = None,
                  provider_limits: Mapping[str, int] | None = None) -> None:
        """Change the limits; running cells keep their slots, new starts follow the new limits."""
        if concurrency is not None:
            self._concurrency = max(1, concurrency)
        if per_provider is not None:
            self._per_provider = max(1, per_provider)
        if provider_limits is not None:
            self._provider_limits = {k: max(1, v) for k, v in provider_limits.items()}
        for key, limit in self._limits.items():
            limit.set_ceiling(self._ceiling(key.split("#", 1)[0]))
        self._pump()

    def provider_limits(self) -> dict[str, tuple[int, int]]:
        """Each provider endpoint's (current limit of its most limited target, ceiling)."""
        result: dict[str, tuple[int, int]] = {}
        for key, limit in self._limits.items():
            pkey = key.split("#", 1)[0]
            low = min(limit.limit, result[pkey][0]) if pkey in result else limit.limit
            result[pkey] = (low, self._ceiling(pkey))
        return result

    def target_limits(self) -> dict[str, tuple[int, int]]:
        """Each model target's (current limit, ceiling): where 429s are accounted."""
        return {key: (limit.limit, limit.ceiling) for key, limit in self._limits.items()}

    @property
    def busy(self) -> bool:
        return any(job.state != "done" for group in self._groups for job in group.jobs)

    # -- batches ------------------------------------------------------------------------------------

    async def _run_planned(self, planned: Sequence[PlannedCell], on_event: EventSink) -> list[Run]:
        batch = _Batch(on_event)
        groups: dict[tuple[str, int], _Group] = {}
        for item in planned:
            group = groups.setdefault(item.group, _Group())
            job = _Job(item, batch)
            group.jobs.append(job)
            batch.jobs.append(job)
        for job in batch.jobs:
            batch.emit(CellQueued(job.cell))
        for job in batch.jobs:
            if job.planned.error is not None:
                self._finish(job, "error", Attempt(error=job.planned.error))
        if not batch.jobs:
            batch.finished.set()
        self._groups.extend(groups.values())
        self._pump()
        try:
            await batch.finished.wait()
        except asyncio.CancelledError:
            self._cancel(lambda cell: True, batch)
            tasks = [job.task for job in batch.jobs if job.task is not None]
            if tasks:
                await asyncio.wait(tasks)
            raise
        return [job.run for job in batch.jobs if job.run is not None]

    def _cancel(self, match: Callable[[Cell], bool], batch: _Batch | None = None) -> None:
        if batch is None:
            for watcher in list(self._cancel_watchers):
                watcher(match)
        for group in list(self._groups):
            for job in group.jobs:
                if job.state == "done" or not match(job.cell):
                    continue
                if batch is not None and job.batch is not batch:
                    continue
                if job.state == "pending":
                    self._finish(job, "cancelled", Attempt())
                elif job.task is not None:
                    job.task.cancel()
        self._pump()

    # -- scheduling ---------------------------------------------------------------------------------

    def _limit(self, target: ModelTarget) -> AdaptiveLimit:
        key = target_key(target)
        limit = self._limits.get(key)
        if limit is None:
            ceiling = self._ceiling(provider_key(target))
            limit = self._limits[key] = AdaptiveLimit(ceiling, self._recover_after)
        return limit

    def _ceiling(self, key: str) -> int:
        base = self._provider_limits.get(key, self._per_provider)
        return min(base, self._caps.get(key, base))

    def _provider_free(self, pkey: str) -> int:
        return self._ceiling(pkey) - self._provider_in_flight[pkey]

    def _pump(self) -> None:
        """Start every queued cell that may start now, in plan order."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # configured before any run: nothing can be queued yet
            return
        now = loop.time()
        self._groups = [g for g in self._groups if any(job.state != "done" for job in g.jobs)]
        wake: float | None = None
        paused: set[str] = set()
        for key, until in self._paused_until.items():
            if until > now:
                paused.add(key)
                wake = until if wake is None else min(wake, until)
        blocked = set(paused)
        """Target keys that may start nothing more in this pass (strict plan order per target)."""
        waiting = self._waiting_keys()
        settled = waiting.isdisjoint(self._unhealthy(paused))
        for group in self._groups:
            if settled and blocked >= waiting:
                break  # every queued cell's target is blocked: the rest of the pass would start nothing
            ready: list[_Job] = []
            for job in group.jobs:
                if job.state != "pending":
                    continue
                if job.not_before > now:
                    wake = job.not_before if wake is None else min(wake, job.not_before)
                else:
                    ready.append(job)
            if not ready:
                continue
            if group.fresh and self._start_together:
                # A column whose target is paused (429) or hung does not hold back its healthy siblings.
                healthy = [job for job in ready if job.tkey not in paused and job.tkey not in self._faulty
                           and not self._stalled[job.tkey]]
                counts = Counter(job.tkey for job in healthy)
                limits = {job.tkey: self._limit(job.planned.target) for job in healthy}
                pkeys = {job.tkey: job.pkey for job in healthy}
                want = {k: min(n, limits[k].limit, self._ceiling(pkeys[k])) for k, n in counts.items()}
                per_provider = Counter[str]()
                for k, n in want.items():
                    per_provider[pkeys[k]] += n
                for p, n in per_provider.items():  # several targets on one endpoint: its cap is the most
                    per_provider[p] = min(n, self._ceiling(p))  # that can ever start together
                need = min(self._concurrency, sum(per_provider.values()))
                if self._concurrency - self._running < need:
                    break  # strict order: nothing later may take the slots this group waits for
                if any(k in blocked or limits[k].free < n for k, n in want.items()) or any(
                        self._provider_free(p) < n for p, n in per_provider.items()):
                    blocked.update(counts)
                    continue
                group.fresh = False
            for job in ready:
                if self._running >= self._concurrency:
                    break
                key = job.tkey
                full = self._limit(job.planned.target).free <= 0 or self._provider_free(job.pkey) <= 0
                if key in blocked or full:
                    blocked.add(key)
                    continue
                self._start(job)
            if self._running >= self._concurrency:
                break
        self._arm_timer(wake)

    def _waiting_keys(self) -> set[str]:
        """The targets of the queued cells."""
        return {job.tkey for group in self._groups for job in group.jobs if job.state == "pending"}

    def _unhealthy(self, paused: set[str]) -> set[str]:
        """Targets a fresh group does not wait for (paused, faulty, hung): such a group's pass can
        change its state even when it starts nothing, so `_pump` may not skip it."""
        return paused | self._faulty | {key for key, n in self._stalled.items() if n}

    def _arm_timer(self, when: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if when is not None:
            self._timer = asyncio.get_running_loop().call_at(when, self._pump)

    def _start(self, job: _Job) -> None:
        job.state = "running"
        job.answering = False
        self._running += 1
        self._provider_in_flight[job.pkey] += 1
        job.shared = True
        epoch = self._limit(job.planned.target).acquire()
        loop = asyncio.get_running_loop()
        if self._stall_after is not None and job.pkey not in self._caps:  # a capped endpoint (the
            # bundled model) queues requests itself: a wait there is a queue, not a hang
            job.stall_timer = loop.call_later(self._stall_after, self._stall, job)
        task = loop.create_task(self._drive(job, epoch), name=f"cell {job.cell.key}")
        task.add_done_callback(lambda t: self._task_done(job, t))
        job.task = task

    def _stall(self, job: _Job) -> None:
        """A request with no answer yet after `stall_after`: give its global and provider slots to others."""
        job.stall_timer = None
        if job.state != "running" or job.answering or not job.shared:
            return
        job.shared = False
        self._running -= 1
        self._provider_in_flight[job.pkey] -= 1
        self._stalled[job.tkey] += 1
        self._faulty.add(job.tkey)
        self._pump()

    def _answering(self, job: _Job) -> None:
        job.answering = True
        if job.stall_timer is not None:
            job.stall_timer.cancel()
            job.stall_timer = None

    def _task_done(self, job: _Job, task: asyncio.Task[None]) -> None:
        """Cleanup for a task cancelled before its first step, which never ran `_drive`'s handlers."""
        if job.task is task and job.state == "running":
            self._release(job, self._limit(job.planned.target))
            self._finish(job, "cancelled", Attempt())
            self._pump()

    # -- one cell -----------------------------------------------------------------------------------

    async def _drive(self, job: _Job, epoch: int) -> None:
        planned = job.planned
        limit = self._limit(planned.target)
        loop = asyncio.get_running_loop()
        attempt = Attempt(started=loop.time())
        outcome: Finished | StreamFailed | None = None
        announced = False
        try:
            stream = cell_stream(self._hub, planned, attempt)  # tools: app/engine/tool_loop.py
            async with aclosing(stream):
                async for event in stream:
                    if isinstance(event, Started):
                        attempt.cached = event.cached
                        announced = True
                        job.batch.emit(CellStarted(job.cell, planned.messages, event.cached))
                    elif isinstance(event, TextDelta):
                        if not job.answering:
                            self._answering(job)
                        if not announced:
                            announced = True
                            job.batch.emit(CellStarted(job.cell, planned.messages))
                        attempt.add_text(event.text, loop.time())
                        job.batch.emit(CellDelta(job.cell, event.text))
                    elif isinstance(event, ToolCallDelta | ToolAnswered):  # -- tool calls (tool_loop.py)
                        if not job.answering:
                            self._answering(job)
                        if not announced:
                            announced = True
                            job.batch.emit(CellStarted(job.cell, planned.messages))
                        job.batch.emit(tool_event(job.cell, event))
                    elif isinstance(event, UsageReport):
                        attempt.usage = event
                    elif isinstance(event, Finished | StreamFailed):
                        outcome = event
        except asyncio.CancelledError:
            if not isinstance(outcome, Finished):
                self._release(job, limit)
                self._finish(job, "cancelled", attempt.ended(loop.time()))
                self._pump()
                return
        except Exception as exc:  # the hub reports faults as events; anything else is a bug: fail this cell
            log.exception("cell %s crashed", job.cell.key)
            outcome = StreamFailed(ErrorKind.UNKNOWN, f"unexpected error: {type(exc).__name__}: {exc}")
        self._release(job, limit)
        attempt.ended(loop.time())
        if isinstance(outcome, Finished):
            limit.succeeded()
            self._faulty.discard(job.tkey)
            self._finish(job, "ok", attempt.finished(outcome))
        elif outcome is None:
            self._finish(job, "error", attempt.failed(StreamFailed(
                ErrorKind.UNKNOWN, "the stream ended without an answer")))
        else:
            if outcome.kind in _TARGET_FAULTS:
                self._faulty.add(job.tkey)
            if not self._requeued(job, limit, epoch, outcome, attempt):
                status: RunStatus = "cut" if outcome.kind == ErrorKind.CUT else "error"
                self._finish(job, status, attempt.failed(outcome))
        self._pump()

    def _release(self, job: _Job, limit: AdaptiveLimit) -> None:
        limit.release()
        if job.stall_timer is not None:
            job.stall_timer.cancel()
            job.stall_timer = None
        if job.shared:
            self._running -= 1
            self._provider_in_flight[job.pkey] -= 1
            job.shared = False
        else:
            self._stalled[job.tkey] -= 1
        job.task = None

    def _requeued(self, job: _Job, limit: AdaptiveLimit, epoch: int, failure: StreamFailed,
                  attempt: Attempt) -> bool:
        """Put a rate-limited or transiently failed cell back in its place; False when out of tries."""
        now = asyncio.get_running_loop().time()
        if failure.kind == ErrorKind.RATE_LIMITED and job.rate_limited < self._max_rate_limit_retries:
            job.rate_limited += 1
            limit.rate_limited(epoch)
            wait = retry.rate_limit_wait(failure.retry_after, job.rate_limited, max_wait=self._max_retry_wait)
            key = job.tkey  # only this target pauses: other models on the endpoint go on
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), now + wait)
            reason = f"rate limited; retrying in {wait:.1f}s at {limit.limit} at a time"
        elif failure.kind in RETRYABLE and not attempt.text and job.retried < self._retries:
            job.retried += 1
            wait = retry.backoff(job.retried - 1, max_wait=self._max_retry_wait)
            reason = f"{failure.message}; retrying in {wait:.1f}s"
        else:
            return False
        job.state = "pending"
        job.not_before = now + wait
        job.batch.emit(CellQueued(job.cell, reason))
        return True

    def _finish(self, job: _Job, status: RunStatus, attempt: Attempt) -> None:
        job.state = "done"
        run = make_run(job.planned, status, attempt)
        job.run = run
        batch = job.batch
        batch.record(run)
        kind: type[CellFinished | CellFailed | CellCancelled] = (
            CellFinished if status == "ok" else CellCancelled if status == "cancelled" else CellFailed)
        batch.emit(kind(job.cell, run))
        batch.emit(batch.progress())
        if batch.done == len(batch.jobs):
            batch.finished.set()

