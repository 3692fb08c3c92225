"""Sending, resuming and reading Anthropic Message Batches for `BatchRunner`, never creating one twice.

A Message Batch has no metadata to tag it with, so the order is:
1. the job (its cells, hence its custom_ids) is already saved by `BatchRunner.submit`;
2. `send` writes an intent (local nonce, the time before sending, the request count, the
   custom_ids' digest) and saves it, *then* creates the batch, then records its id and saves;
3. `resume` (a job with no batch id): no intent means the create was never sent, so send; with
   one, list the batches created since the intent's time with its request count (ignoring ids
   this file already records): exactly one is adopted, none means it was never created (send),
   several stop with `AmbiguousBatch` naming them, and `--batch-id ID` adopts the right one;
4. `answers` downloads the results and checks their custom_ids are this job's, so a batch
   adopted by mistake is never stored as this file's answers.
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.batch import BatchAnswer
from app.core.message_batches import adoption_candidates, message_request, new_intent, read_results
from app.core.prototype import BatchJob, ModelTarget, Prototype, new_id, utc_now
from app.engine.plan import PlannedCell
from app.providers.batch import BatchState
from app.providers.events import ErrorKind, ProviderError
from app.providers.message_batches import MessageBatchApi

Save = Callable[[Prototype], None]
Update = Callable[[BatchJob, BatchState], bool]


class AmbiguousBatch(ProviderError):
    """Several batches could be the one a killed run created: the user names it with `--batch-id`."""

    def __init__(self, job: BatchJob, candidates: list[str]) -> None:
        self.candidates = candidates
        super().__init__(
            ErrorKind.BAD_REQUEST,
            f"batch {job.id} may have been created before the last run stopped, and {len(candidates)} "
            f"message batches match it ({', '.join(candidates)}). Nothing was sent again. Run again "
            "with --batch-id ID naming the one to adopt.",
        )


def requests_of(
    job: BatchJob, target: ModelTarget, planned: list[PlannedCell | None]
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for cell, plan in zip(job.cells, planned, strict=True):
        if plan is None:
            raise ValueError(
                f"batch {job.id}: case {cell.case!r}, profile {cell.profile!r} or model "
                f"{cell.model!r} is no longer in the file"
            )
        wire = [{"role": m.role, "content": m.content} for m in plan.messages]
        out.append(message_request(cell.custom_id, target.model, wire, target.params))
    return out


async def send(api: MessageBatchApi, proto: Prototype, job: BatchJob, planned: list[PlannedCell | None],
               *, save: Save, update: Update) -> None:
    """Intent saved, then create, then the id saved."""
    target = proto.model(job.model)
    requests = requests_of(job, target, planned)
    job.intent = new_intent(new_id("intent"), utc_now(), [c.custom_id for c in job.cells])
    save(proto)  # from here a crash is resumed by listing, not by creating again
    state = await api.create(target, requests)
    update(job, state)
    save(proto)


async def resume(api: MessageBatchApi, proto: Prototype, job: BatchJob, planned: list[PlannedCell | None],
                 *, save: Save, update: Update) -> None:
    """A job with no batch id: adopt the batch its intent created, or send it if none was."""
    if job.intent is None:
        await send(api, proto, job, planned, save=save, update=update)
        return
    target = proto.model(job.model)
    known = {j.batch_id for j in proto.batches if j.batch_id}
    found = adoption_candidates(await api.created_since(target, job.intent), job.intent, known)
    if len(found) > 1:
        raise AmbiguousBatch(job, found)
    if not found:
        await send(api, proto, job, planned, save=save, update=update)
        return
    update(job, await api.retrieve(target, found[0]))
    save(proto)


async def adopt(api: MessageBatchApi, proto: Prototype, job: BatchJob, batch_id: str, update: Update) -> None:
    """`--batch-id ID`: the user names the batch; its request count must be the job's, and no
    other job of the file may hold it already."""
    holder = next((j.id for j in proto.batches if j.batch_id == batch_id and j is not job), None)
    if holder is not None:
        raise ProviderError(ErrorKind.BAD_REQUEST, f"message batch {batch_id} is already batch {holder}'s.")
    state = await api.retrieve(proto.model(job.model), batch_id)
    if state.total != len(job.cells):
        raise ProviderError(
            ErrorKind.BAD_REQUEST,
            f"message batch {batch_id} has {state.total} requests, batch {job.id} has {len(job.cells)}: "
            "not adopted.",
        )
    update(job, state)


async def answers(api: MessageBatchApi, proto: Prototype, job: BatchJob) -> dict[str, BatchAnswer]:
    """custom_id -> answer or error; canceled and expired requests are absent (sent again next time)."""
    assert job.batch_id is not None
    results = read_results(await api.results(proto.model(job.model), job.batch_id))
    ours = {c.custom_id for c in job.cells}
    strangers = results.seen - ours
    if strangers:
        example = sorted(strangers)[0]
        raise ProviderError(
            ErrorKind.BAD_REQUEST,
            f"message batch {job.batch_id} answers other requests than batch {job.id} (e.g. {example!r}): "
            "it was adopted by mistake and nothing was stored. Run again with --batch-id ID naming "
            "the right batch.",
        )
    return results.answers
