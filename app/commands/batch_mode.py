"""`protostudio run FILE --batch` and `protostudio eval FILE --batch`: the provider's Batch API.

With no pending batch of that kind in FILE, the cells not yet answered (in the file or the
response cache) are submitted, one batch per model target, each recorded in FILE at once. With
one pending, it is resumed: polled with progress until it ends, then its results are downloaded
and appended as ordinary runs (cost at the batch price). Cells a batch cannot run go through the
normal engine, and the output says which and why. Ctrl+C stops waiting; the batch keeps running
at the provider and the next `--batch` picks it up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.core.batch import pending_jobs
from app.core.document import save_prototype
from app.core.prototype import BatchJob, Prototype, Run
from app.engine.plan import RunPlan
from app.engine.writer import ResultWriter

DEFAULT_POLL_S = 30.0


def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--batch",
        action="store_true",
        help="send the cells through the provider's Batch API (about half price, within 24 h); "
        "run again with --batch to resume a pending batch",
    )
    parser.add_argument(
        "--batch-poll",
        type=float,
        default=DEFAULT_POLL_S,
        metavar="SECONDS",
        help=f"how often to check a pending batch (default {DEFAULT_POLL_S:g})",
    )


async def append_runs(writer: ResultWriter, runs: list[Run]) -> None:
    """The one place batch results join the file: through the `ResultWriter` that `protostudio run`
    appends finished cells with, saved before returning (so the job's next status save follows it)."""
    for run in runs:
        writer.add(run)
    await writer.flush()


async def run_batch(proto: Prototype, path: Path, plan: RunPlan, kind: str, args: argparse.Namespace) -> int:
    """Submit or resume, collect, and run the unbatchable cells interactively. Returns an exit code."""
    from app.engine.batch import BatchRunner
    from app.engine.engine import Engine
    from app.providers.events import ProviderError
    from app.providers.hub import ProviderHub

    hub = ProviderHub()
    writer = ResultWriter(proto, path)
    runner = BatchRunner(hub, poll_interval=args.batch_poll)

    def save(p: Prototype) -> None:
        save_prototype(p, path)

    failed = False
    try:
        pending = pending_jobs(proto.batches, kind)
        selection = await runner.select(proto, plan)
        if pending:
            print(f"resuming {len(pending)} pending batch(es) recorded in {path}", file=sys.stderr)
        else:
            print(
                f"batch: {selection.to_send} cells to send, {len(selection.cached)} from the cache, "
                f"{selection.in_file} already in the file, {len(selection.interactive)} to run interactively",
                file=sys.stderr,
            )
            if selection.cached:
                await append_runs(writer, selection.cached)
            pending = await runner.submit(proto, selection, kind, save)
            for job in pending:
                print(
                    f"submitted batch {job.batch_id} ({len(job.cells)} requests to {job.model}); "
                    f"recorded as {job.id} in {path}",
                    file=sys.stderr,
                )
        for job in pending:
            failed |= await _finish(runner, proto, job, save, writer)
        for planned, reason in selection.interactive:
            cell = planned.cell
            print(f"running {cell.case}/{cell.profile}/{cell.model} interactively: {reason}", file=sys.stderr)
        if selection.interactive and not pending_jobs(proto.batches, kind):
            engine = Engine(hub)
            done: list[Run] = []
            for planned, _ in selection.interactive:
                one = RunPlan(
                    profiles=[planned.cell.profile],
                    models=[planned.cell.model],
                    cases=[planned.cell.case],
                    use_cache=plan.use_cache,
                )
                done.extend(
                    r
                    for r in await engine.run(proto, one, lambda _e: None)
                    if r.sample == planned.cell.sample
                )
            await append_runs(writer, done)
            failed |= any(r.status != "ok" for r in done)
    except ProviderError as exc:
        print(f"protostudio {kind}: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "stopped waiting; the batch keeps running at the provider. Run "
            f"`protostudio {kind} {path} --batch` "
            "again to collect it.",
            file=sys.stderr,
        )
        return 130
    finally:
        await hub.aclose()
    return 1 if failed else 0


async def _finish(runner: Any, proto: Prototype, job: BatchJob, save: Any, writer: ResultWriter) -> bool:
    """Wait for one batch, collect it into the file; True when some requests failed or got no answer."""

    def on_state(j: BatchJob, state: Any) -> None:
        done = state.completed + state.failed
        print(
            f"batch {state.batch_id}: {state.status}, {done}/{state.total or len(j.cells)} done"
            + (f", {state.failed} failed" if state.failed else ""),
            file=sys.stderr,
        )

    state = await runner.wait(proto, job, save, on_state)
    if state.status == "failed":
        job.status = "failed"
        save(proto)
        print(
            f"batch {state.batch_id} failed: {state.errors or 'the provider gave no reason'}", file=sys.stderr
        )
        return True
    collected = await runner.collect(proto, job)
    await append_runs(writer, collected.runs)
    save(proto)  # the job's `collected` status, also when no run came back
    errors = sum(r.status != "ok" for r in collected.runs)
    print(
        f"batch {state.batch_id} {state.status}: {len(collected.runs) - errors} answers and {errors} errors "
        "saved "
        f"to the file",
        file=sys.stderr,
    )
    for line in collected.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    if collected.unanswered:
        print(
            f"{collected.unanswered} requests got no answer (batch {state.status}); "
            "run with --batch again to "
            "send them",
            file=sys.stderr,
        )
    return bool(errors or collected.unanswered or collected.skipped)
