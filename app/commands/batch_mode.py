"""`protostudio run FILE --batch` and `protostudio eval FILE --batch`: the provider's Batch API.

With no pending batch of that kind in FILE, the cells not yet answered (in the file or the
response cache) are submitted, one batch per model target, each recorded in FILE at once. With
one pending, it is resumed: polled with progress until it ends, then its results are downloaded
and appended as ordinary runs (cost at the batch price). Cells a batch cannot run go through the
normal engine, and the output says which and why. Ctrl+C stops waiting; the batch keeps running
at the provider and the next `--batch` picks it up.

`protostudio run FILE --batch --json` prints one JSON object on stdout when it ends (progress and
notes stay on stderr); its keys are documented in `BatchReport` and in docs/architecture.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
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
    parser.add_argument(
        "--batch-id",
        metavar="ID",
        help="adopt this Anthropic message batch as the file's pending one, when a run stopped between "
        "creating it and recording its id and several batches could be it",
    )


@dataclass
class BatchReport:
    """What `run --batch --json` prints: one object, whatever happened.

    file, kind ("run"/"eval"); status: "done" (every batch ended and was collected), "interrupted"
    (Ctrl+C: batches keep running at the provider) or "error" (with `error`, the reason);
    cells: how the plan's cells were sorted (sent in a batch now, answered from the cache, already in
    the file, already in a pending batch, run interactively); batches: one per batch this
    invocation submitted or resumed (our id, the provider's batch_id, model, the provider's last
    status, collected, requests, answers, errors, unanswered, skipped); not_batchable: each cell
    run interactively and why;
    runs: every run this invocation added to the file (batch answers, errors, cache hits,
    interactive runs), as in `run --json`.
    """

    file: str
    kind: str
    status: str = "done"
    error: str | None = None
    cells: dict[str, int] = field(default_factory=dict)
    batches: list[dict[str, Any]] = field(default_factory=list)
    not_batchable: list[dict[str, Any]] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)

    def batch(self, job: BatchJob) -> dict[str, Any]:
        """The entry for `job`, added on first use."""
        for entry in self.batches:
            if entry["id"] == job.id:
                return entry
        entry = {"id": job.id, "batch_id": job.batch_id, "model": job.model, "status": job.status,
                 "collected": False, "requests": len(job.cells), "answers": 0, "errors": 0, "unanswered": 0,
                 "skipped": []}
        self.batches.append(entry)
        return entry

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "status": self.status,
            "error": self.error,
            "cells": self.cells,
            "batches": self.batches,
            "not_batchable": self.not_batchable,
            "runs": [r.model_dump(mode="json", by_alias=True) for r in self.runs],
        }


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
    report = BatchReport(str(path), kind)
    as_json = kind == "run" and getattr(args, "json", None) is True  # eval's --json is a report PATH

    def save(p: Prototype) -> None:
        save_prototype(p, path)

    failed = False
    try:
        pending = pending_jobs(proto.batches, kind)
        if getattr(args, "batch_id", None):
            await _adopt(runner, proto, pending, args.batch_id, save)
        selection = await runner.select(proto, plan)
        report.cells = {"sent": 0, "cached": len(selection.cached), "in_file": selection.in_file,
                        "pending": selection.pending, "interactive": len(selection.interactive)}
        report.not_batchable = [
            {"case": p.cell.case, "profile": p.cell.profile, "model": p.cell.model, "sample": p.cell.sample,
             "reason": reason}
            for p, reason in selection.interactive
        ]
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
                report.runs.extend(selection.cached)
            pending = await runner.submit(proto, selection, kind, save)
            report.cells["sent"] = selection.to_send
            for job in pending:
                report.batch(job)
                print(
                    f"submitted batch {job.batch_id} ({len(job.cells)} requests to {job.model}); "
                    f"recorded as {job.id} in {path}",
                    file=sys.stderr,
                )
        for job in pending:
            report.batch(job)
        for job in pending:
            failed |= await _finish(runner, proto, job, save, writer, report=report)
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
            report.runs.extend(done)
            failed |= any(r.status != "ok" for r in done)
    except ProviderError as exc:
        print(f"protostudio {kind}: {exc.message}", file=sys.stderr)
        report.status, report.error = "error", exc.message
        return 1
    except KeyboardInterrupt:
        print(
            "stopped waiting; the batch keeps running at the provider. Run "
            f"`protostudio {kind} {path} --batch` "
            "again to collect it.",
            file=sys.stderr,
        )
        report.status = "interrupted"
        return 130
    finally:
        await hub.aclose()
        if as_json:
            sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n")
    return 1 if failed else 0


async def _adopt(runner: Any, proto: Prototype, pending: list[BatchJob], batch_id: str, save: Any) -> None:
    """`--batch-id ID`: the pending message batch job of this kind takes the batch the user names: the
    one with no batch id yet (a stopped run leaves at most one), else the one holding a wrong one."""
    from app.providers.events import ErrorKind, ProviderError

    ours = [j for j in pending if j.intent is not None]
    waiting = [j for j in ours if j.batch_id is None] or ours
    if len(waiting) != 1:
        raise ProviderError(
            ErrorKind.BAD_REQUEST,
            "--batch-id needs exactly one pending Anthropic message batch in the file; "
            f"it has {len(waiting)}.",
        )
    await runner.adopt(proto, waiting[0], batch_id)
    save(proto)
    print(f"adopted message batch {batch_id} as {waiting[0].id}", file=sys.stderr)


async def _finish(runner: Any, proto: Prototype, job: BatchJob, save: Any, writer: ResultWriter, *,
                  report: BatchReport) -> bool:
    """Wait for one batch, collect it into the file; True when some requests failed or got no answer."""
    entry = report.batch(job)

    def on_state(j: BatchJob, state: Any) -> None:
        done = state.completed + state.failed
        print(
            f"batch {state.batch_id}: {state.status}, {done}/{state.total or len(j.cells)} done"
            + (f", {state.failed} failed" if state.failed else ""),
            file=sys.stderr,
        )

    state = await runner.wait(proto, job, save, on_state)
    entry["batch_id"] = job.batch_id
    collected = await runner.settle(proto, job, state)
    entry.update(status=state.status, collected=job.status == "collected")
    if collected is None:
        save(proto)
        print(
            f"batch {state.batch_id} failed: {state.errors or 'the provider gave no reason'}", file=sys.stderr
        )
        return True
    await append_runs(writer, collected.runs)
    save(proto)  # the job's `collected` status, also when no run came back
    report.runs.extend(collected.runs)
    errors = sum(r.status != "ok" for r in collected.runs)
    entry.update(answers=len(collected.runs) - errors, errors=errors, unanswered=collected.unanswered,
                 skipped=collected.skipped)
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
