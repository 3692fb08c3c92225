"""Running a plan through a provider's Batch API instead of one streamed request per cell.

1. `select` sorts the plan's cells: already answered in the file (skipped), answered in the
   response cache (a cached run, as an interactive run would give), not batchable (the bundled
   model, tool loops, a conversation that does not end with the user: run interactively, and said
   so), and the rest, to send. Cells of a batch still pending are never sent again.
2. `submit` records each batch in the prototype *before* uploading, then its file id, then the
   provider's batch id, saving after each step, so a killed process resumes it. A job with no
   batch id is looked up by the job id it was tagged with before anything is created again.
   Anthropic targets go through its Message Batches API instead (`message_batches.py`: no
   upload, and an intent saved before the create replaces the tag, which that API lacks).
3. `wait` polls until the batch ends; `collect` downloads its output and error files and turns
   them into ordinary runs (cost at the batch price), and stores each answer in the response
   cache under the key an interactive run would use.

The runner never appends runs itself: it returns them, and the caller appends them the way
`protostudio run` does (see `app/commands/batch_mode.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.batch import (
    COMPLETION_WINDOW,
    MAX_REQUESTS,
    BatchAnswer,
    batch_cost,
    custom_id,
    read_output,
    request_line,
)
from app.core.message_batches import MESSAGE_BATCH_PROVIDERS, unsupported
from app.core.messages import build_messages
from app.core.prototype import BatchCell, BatchJob, ModelTarget, Prototype, Run, new_id, utc_now
from app.core.simulation import NO_FIXED_TURN, opens_conversation
from app.engine import message_batches
from app.engine.events import Cell
from app.engine.plan import PlannedCell, RunPlan, expand
from app.engine.runs import Attempt, make_run
from app.engine.simulate import has_simulated
from app.providers.batch import BatchApi, BatchState
from app.providers.cache import CachedAnswer
from app.providers.events import ErrorKind, ProviderError, UsageReport
from app.providers.hub import ProviderHub, ResolvedEndpoint
from app.providers.message_batches import MessageBatchApi

ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
"""Provider statuses after which nothing more will come."""

NO_BATCH_API = {
    "ollama": "Ollama has no batch API",
    "lmstudio": "LM Studio has no batch API",
    "vllm": "vLLM's server has no /batches endpoint",
}
"""Built-in providers, at their own host, known to lack OpenAI's `/files` + `/batches`: their cells run
interactively instead of failing at upload. (Anthropic has its own Message Batches API, used instead.)"""


def uses_message_batches(target: ModelTarget) -> bool:
    """Whether a target's batches go through Anthropic's Message Batches (by provider id: no I/O)."""
    return target.provider in MESSAGE_BATCH_PROVIDERS


def batch_api(hub: ProviderHub, target: ModelTarget) -> BatchApi | MessageBatchApi:
    """The API that checks and cancels `target`'s batches (both return a `BatchState`)."""
    return MessageBatchApi(hub) if uses_message_batches(target) else BatchApi(hub)

Save = Callable[[Prototype], None]
OnState = Callable[[BatchJob, BatchState], None]


@dataclass
class BatchSelection:
    """What `--batch` does with each cell of a plan."""

    send: dict[str, list[PlannedCell]] = field(default_factory=dict)
    """Model target id -> cells to send in a batch."""
    cached: list[Run] = field(default_factory=list)
    in_file: int = 0
    pending: int = 0
    """Cells already in a batch that has not been collected yet."""
    interactive: list[tuple[PlannedCell, str]] = field(default_factory=list)
    """Cells that cannot be batched, with why."""

    @property
    def to_send(self) -> int:
        return sum(len(cells) for cells in self.send.values())


@dataclass
class Collected:
    runs: list[Run]
    unanswered: int
    """Requests with neither an answer nor an error (an expired or cancelled batch): not stored, so the
    next `--batch` sends them again."""
    skipped: list[str] = field(default_factory=list)


class BatchRunner:
    def __init__(self, hub: ProviderHub, api: BatchApi | None = None, *, poll_interval: float = 30.0) -> None:
        self.hub = hub
        self.api = api or BatchApi(hub)
        self.messages = MessageBatchApi(hub)
        self.poll_interval = poll_interval

    # -- choosing cells -----------------------------------------------------------------------------

    async def select(self, proto: Prototype, plan: RunPlan) -> BatchSelection:
        selection = BatchSelection()
        waiting = {
            (c.case, c.profile, c.model, c.sample) for j in proto.batches if j.pending for c in j.cells
        }
        cells = list(expand(proto, plan))
        any_simulated = has_simulated(proto, cells)  # once: per cell it would scan every case each time
        endpoints: dict[str, ResolvedEndpoint] = {}
        answered = _ok_runs_by_cell(proto) if plan.use_cache else {}
        for planned in cells:
            cell = planned.cell
            reason = (_simulated(proto, planned) if any_simulated else None) or self._not_batchable(
                planned, endpoints
            )
            if reason is not None:
                selection.interactive.append((planned, reason))
            elif (cell.case, cell.profile, cell.model, cell.sample) in waiting:
                selection.pending += 1
            elif plan.use_cache and _answered_in_file(answered, planned):
                selection.in_file += 1
            elif plan.use_cache and (hit := await self._cached(planned)) is not None:
                selection.cached.append(hit)
            else:
                selection.send.setdefault(planned.target.id, []).append(planned)
        return selection

    def _not_batchable(self, planned: PlannedCell, endpoints: dict[str, ResolvedEndpoint]) -> str | None:
        endpoint = endpoints.get(planned.target.id)
        if endpoint is None:  # resolved once per target, not per cell (a keyring and registry look-up)
            endpoint = endpoints[planned.target.id] = self.hub.resolve(planned.target)
        if endpoint.is_local:
            return "the bundled local model has no batch API"
        if not endpoint.foreign and endpoint.spec.id in NO_BATCH_API:
            return NO_BATCH_API[endpoint.spec.id]
        if uses_message_batches(planned.target) and (why := unsupported(planned.target.params)):
            return why
        if planned.target.params.tools:
            return "a target with tools needs a tool loop, which a batch cannot run"
        if any(m.images for m in planned.messages):
            return "attached images are sent interactively, not inlined into a batch file"
        if not planned.messages or planned.messages[-1].role != "user":
            return "the conversation does not end with a user message"
        return None

    async def _cached(self, planned: PlannedCell) -> Run | None:
        key = self.hub.cache_key_for(planned.target, list(planned.messages))
        hit = await asyncio.to_thread(self.hub.cache.get, key)
        if hit is None:
            return None
        attempt = Attempt(
            final_text=hit.text,
            finish_reason=hit.finish_reason,
            cached=True,
            ttft_s=hit.ttft_s,
            latency_s=hit.latency_s,
            cost_usd=self.hub.cost_of(planned.target, hit.prompt_tokens, hit.completion_tokens),
        )
        if hit.prompt_tokens is not None or hit.completion_tokens is not None:
            attempt.usage = UsageReport(hit.prompt_tokens, hit.completion_tokens)
        return make_run(planned, "ok", attempt)

    # -- submitting ---------------------------------------------------------------------------------

    async def submit(
        self, proto: Prototype, selection: BatchSelection, kind: str, save: Save
    ) -> list[BatchJob]:
        """Create one batch per target (and per MAX_REQUESTS cells), recording each before sending."""
        jobs: list[BatchJob] = []
        for target_id, cells in selection.send.items():
            for start in range(0, len(cells), MAX_REQUESTS):
                chunk = cells[start : start + MAX_REQUESTS]
                job = BatchJob(
                    id=new_id("batch"),
                    created=utc_now(),
                    kind="eval" if kind == "eval" else "run",
                    model=target_id,
                )
                job.cells = [
                    BatchCell(
                        custom_id=custom_id(job, i),
                        case=p.cell.case,
                        profile=p.cell.profile,
                        model=p.cell.model,
                        sample=p.cell.sample,
                    )
                    for i, p in enumerate(chunk)
                ]
                proto.batches.append(job)
                save(proto)  # recorded before anything is sent: a crash from here on resumes this job
                await self._send(proto, job, save)
                jobs.append(job)
        return jobs

    async def _send(self, proto: Prototype, job: BatchJob, save: Save) -> None:
        target = proto.model(job.model)
        if uses_message_batches(target):
            cells = self._replan(proto, job)
            await message_batches.send(self.messages, proto, job, cells, save=save, update=self._update)
            return
        if job.input_file_id is None:
            lines = []
            for cell, planned in zip(job.cells, self._replan(proto, job), strict=True):
                if planned is None:
                    raise ValueError(
                        f"batch {job.id}: case {cell.case!r}, profile {cell.profile!r} or model "
                        f"{cell.model!r} is no longer in the file"
                    )
                wire = [{"role": m.role, "content": m.content} for m in planned.messages]
                lines.append(
                    request_line(
                        cell.custom_id, target.model, wire, target.params.model_dump(exclude_none=True)
                    )
                )
            data = ("\n".join(lines) + "\n").encode("utf-8")
            job.input_file_id = await self.api.upload(target, f"{job.id}.jsonl", data)
            save(proto)
        state = await self.api.create(target, job.input_file_id, job.id, COMPLETION_WINDOW)
        self._update(job, state)
        save(proto)

    # -- waiting ------------------------------------------------------------------------------------

    async def wait(self, proto: Prototype, job: BatchJob, save: Save, on_state: OnState) -> BatchState:
        """Poll until the batch ends. A job recorded without a batch id is first looked up, then sent."""
        target = proto.model(job.model)
        if job.batch_id is None and uses_message_batches(target):
            cells = self._replan(proto, job)
            await message_batches.resume(self.messages, proto, job, cells, save=save, update=self._update)
        elif job.batch_id is None:
            found = await self.api.find(target, job.id)
            if found is None:
                await self._send(proto, job, save)
            else:
                self._update(job, found)
                save(proto)
        assert job.batch_id is not None
        api = self._api(target)
        while True:
            state = await api.retrieve(target, job.batch_id)
            if self._update(job, state):
                save(proto)
            on_state(job, state)
            if state.status in ENDED:
                return state
            await asyncio.sleep(self.poll_interval)

    async def check(self, proto: Prototype, job: BatchJob) -> BatchState:
        """One status request, no waiting; the job's record follows the provider's answer."""
        if job.batch_id is None:
            raise ValueError(f"batch {job.id} was never created at the provider: run with --batch to send it")
        target = proto.model(job.model)
        state = await self._api(target).retrieve(target, job.batch_id)
        self._update(job, state)
        return state

    async def adopt(self, proto: Prototype, job: BatchJob, batch_id: str) -> None:
        """`--batch-id ID`: record a Message Batch the user names as this job's (its size must match)."""
        if not uses_message_batches(proto.model(job.model)):
            raise ProviderError(
                ErrorKind.BAD_REQUEST,
                f"batch {job.id} is not an Anthropic message batch: --batch-id does not apply",
            )
        await message_batches.adopt(self.messages, proto, job, batch_id, self._update)

    def _api(self, target: ModelTarget) -> BatchApi | MessageBatchApi:
        return self.messages if uses_message_batches(target) else self.api

    async def settle(self, proto: Prototype, job: BatchJob, state: BatchState) -> Collected | None:
        """What to do with a batch once `state` says it ended: a failed one is marked failed (it has
        nothing to collect, None), any other is collected. The CLI and the app both end a batch here."""
        if state.status == "failed":
            job.status = "failed"
            return None
        return await self.collect(proto, job)

    async def collect_if_ended(self, proto: Prototype, job: BatchJob) -> tuple[BatchState, Collected | None]:
        """The app's Collect: check once; when the batch has ended, settle it. (None while it runs,
        or when it failed: the state says which.)"""
        state = await self.check(proto, job)
        if state.status not in ENDED:
            return state, None
        return state, await self.settle(proto, job, state)

    async def cancel(self, proto: Prototype, job: BatchJob) -> BatchState | None:
        """Ask the provider to cancel; what already finished is still collected afterwards."""
        if job.batch_id is None:
            job.status = "cancelled"
            return None
        target = proto.model(job.model)
        state = await self._api(target).cancel(target, job.batch_id)
        self._update(job, state)
        return state

    @staticmethod
    def _update(job: BatchJob, state: BatchState) -> bool:
        before = (job.batch_id, job.status, job.output_file_id, job.error_file_id)
        job.batch_id = state.batch_id
        job.status = state.status
        job.output_file_id = state.output_file_id or job.output_file_id
        job.error_file_id = state.error_file_id or job.error_file_id
        return before != (job.batch_id, job.status, job.output_file_id, job.error_file_id)

    # -- collecting ---------------------------------------------------------------------------------

    async def collect(self, proto: Prototype, job: BatchJob) -> Collected:
        """Runs for every answered or failed request of an ended batch; marks the job collected."""
        target = proto.model(job.model)
        answers: dict[str, BatchAnswer] = {}
        if uses_message_batches(target):
            answers = await message_batches.answers(self.messages, proto, job)
        for file_id in (job.error_file_id, job.output_file_id):  # an answer wins over an error
            if file_id:
                answers.update(read_output(await self.api.content(target, file_id)))
        runs: list[Run] = []
        unanswered = 0
        skipped: list[str] = []
        to_cache: list[tuple[str, CachedAnswer]] = []
        for cell, planned in zip(job.cells, self._replan(proto, job), strict=True):
            answer = answers.get(cell.custom_id)
            if planned is None:
                skipped.append(f"{cell.case}/{cell.profile}/{cell.model} is no longer in the file")
                continue
            if answer is None:
                unanswered += 1
                continue
            runs.append(self._run_of(planned, answer, to_cache))
        await asyncio.gather(*(asyncio.to_thread(self._cache_put, key, a) for key, a in to_cache))
        job.status = "collected"
        return Collected(runs, unanswered, skipped)

    def _cache_put(self, key: str, answer: CachedAnswer) -> None:
        """One answer into the response cache; the writes of a batch run side by side (each fsyncs)."""
        with contextlib.suppress(OSError):  # a full disk must not lose the answer itself
            self.hub.cache.put(key, answer)

    def _run_of(
        self, planned: PlannedCell, answer: BatchAnswer, to_cache: list[tuple[str, CachedAnswer]]
    ) -> Run:
        """The run for one answer; an answer (not an error) is also queued for the response cache."""
        if answer.error is not None:
            return make_run(planned, "error", Attempt(error=answer.error))
        attempt = Attempt(
            final_text=answer.text,
            finish_reason=answer.finish_reason,
            cost_usd=batch_cost(
                self.hub.cost_of(planned.target, answer.prompt_tokens, answer.completion_tokens)
            ),
        )
        if answer.prompt_tokens is not None or answer.completion_tokens is not None:
            attempt.usage = UsageReport(answer.prompt_tokens, answer.completion_tokens)
        cached = CachedAnswer(
            answer.text, answer.finish_reason, answer.prompt_tokens, answer.completion_tokens
        )
        to_cache.append((self.hub.cache_key_for(planned.target, list(planned.messages)), cached))
        return make_run(planned, "ok", attempt)

    @staticmethod
    def _replan(proto: Prototype, job: BatchJob) -> list[PlannedCell | None]:
        """Each cell of the job rebuilt from the file as it is now (None when something was deleted)."""
        out: list[PlannedCell | None] = []
        profiles = {p.id: p for p in proto.profiles}  # by id once: a lookup per cell is a scan per cell
        cases = {c.id: c for c in proto.cases}
        targets = {m.id: m for m in proto.models}
        for cell in job.cells:
            profile, case, target = profiles.get(cell.profile), cases.get(cell.case), targets.get(cell.model)
            if profile is None or case is None or target is None:
                out.append(None)
                continue
            messages = tuple(build_messages(proto, profile, case))
            out.append(
                PlannedCell(
                    Cell(case.id, profile.id, target.id, cell.sample),
                    target,
                    messages,
                    (case.id, cell.sample),
                )
            )
        return out


def _simulated(proto: Prototype, planned: PlannedCell) -> str | None:
    """Simulated users write each next turn after a reply: a batch answers once, hours later."""
    if has_simulated(proto, [planned]):
        case = proto.case(planned.cell.case)
        if opens_conversation(case, proto.profile(planned.cell.profile)):
            return (f"the case has no fixed turn: {NO_FIXED_TURN}, and each next one after a reply, "
                    "which a batch cannot wait for")
        return "a simulated user writes each next turn after a reply, which a batch cannot wait for"
    return None


CellKey = tuple[str, str, str, int]


def _ok_runs_by_cell(proto: Prototype) -> dict[CellKey, list[Run]]:
    """The file's ok runs by (case, profile, model, sample), built once per `select`."""
    index: dict[CellKey, list[Run]] = {}
    for run in proto.runs:
        if run.status == "ok":
            index.setdefault((run.case, run.profile, run.model, run.sample), []).append(run)
    return index


def _answered_in_file(answered: dict[CellKey, list[Run]], planned: PlannedCell) -> bool:
    """An ok run of this cell sent exactly these messages with these params (so sending again is waste)."""
    cell, target = planned.cell, planned.target
    for run in answered.get((cell.case, cell.profile, cell.model, cell.sample), ()):
        if (
            run.model_name == target.model
            and run.params == target.params
            and tuple(run.messages) == planned.messages
        ):
            return True
    return False
