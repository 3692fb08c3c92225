"""`protostudio run FILE`: run a prototype's matrix headless, save the results into the file, print a table.

Exit codes: 0 every cell answered; 1 some cell failed (error or cut); 2 bad input (unknown
ids, a malformed file); 130 interrupted by Ctrl+C, with every finished cell saved.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from app.commands import batch_mode
from app.commands.common import add_limit_arguments, at_least_one, load_or_report, provider_limits
from app.core.conversations import said
from app.core.costs import format_cost
from app.core.prototype import Prototype, Run
from app.core.run_words import simulator_words
from app.core.tools import calls_summary
from app.engine.events import CellFailed, ConversationEnded, EngineEvent, Progress
from app.engine.plan import PlanError, RunPlan, expand

EXIT_FAILED_CELLS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "run", help="run profiles x models x cases headless and save the results into the file",
        description="Run the prototype's variants (profile x model target) on its cases, stream them "
        "concurrently, save every finished cell into FILE and print a table. Empty selections run all.",
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--profile", action="append", default=[], metavar="P", help="profile id (repeatable)")
    parser.add_argument("--model", action="append", default=[], metavar="M",
                        help="model target id from the file, e.g. `local` (repeatable)")
    parser.add_argument("--case", action="append", default=[], metavar="C", help="case id (repeatable)")
    parser.add_argument("--repeat", type=at_least_one, default=1, metavar="N",
                        help="samples per cell (default 1)")
    parser.add_argument("--concurrency", type=at_least_one, default=8, metavar="N",
                        help="requests at once, overall (default 8; see --per-provider)")
    add_limit_arguments(parser)
    parser.add_argument("--no-cache", action="store_true",
                        help="re-run: do not answer from the response cache")
    parser.add_argument("--json", action="store_true", help="print machine-readable results on stdout")
    batch_mode.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    proto = load_or_report(args.file)
    if proto is None:
        return EXIT_USAGE
    plan = RunPlan(profiles=args.profile, models=args.model, cases=args.case, repeat=args.repeat,
                   use_cache=not args.no_cache)
    try:
        total = len(expand(proto, plan))
    except PlanError as exc:
        print(f"protostudio run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.batch:
        try:
            return asyncio.run(batch_mode.run_batch(proto, Path(args.file), plan, "run", args))
        except KeyboardInterrupt:
            print(f"stopped waiting; run `protostudio run {args.file} --batch` again to collect the batch",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
    try:
        return asyncio.run(_run(proto, Path(args.file), plan, total, args))
    except OSError as exc:  # the results could not be saved into FILE; it keeps its last good version
        print(f"protostudio run: cannot save results into {args.file}: {exc.strerror or exc}; "
              "the file keeps its last saved version", file=sys.stderr)
        return EXIT_USAGE


async def _run(proto: Prototype, path: Path, plan: RunPlan, total: int, args: argparse.Namespace) -> int:
    from app.engine.engine import Engine
    from app.engine.writer import ResultWriter
    from app.providers.hub import ProviderHub

    hub = ProviderHub()
    engine = Engine(hub, concurrency=args.concurrency, per_provider=args.per_provider,
                    provider_limits=provider_limits(args, hub.registry))
    writer = ResultWriter(proto, path)
    bar = ProgressBar(sys.stderr, total)
    interrupted = _on_interrupt(engine.cancel_all, bar)

    ended: list[ConversationEnded] = []

    def on_event(event: EngineEvent) -> None:
        writer.on_event(event)
        bar.on_event(event)
        if isinstance(event, ConversationEnded):
            ended.append(event)

    unsaved: OSError | None = None
    try:
        runs = await engine.run(proto, plan, on_event)
    finally:
        try:
            await writer.flush()
        except OSError as exc:  # a full disk, or TooManyToSave: the file on disk is unchanged
            unsaved = exc
        bar.close()
        await hub.aclose()
        _restore_interrupt()
    if unsaved is not None:
        print(f"protostudio run: cannot save {path}: {unsaved.strerror or unsaved}; the file is unchanged "
              "(the finished cells are kept in its journal)", file=sys.stderr)
        return 2
    if args.json:
        _print_json(path, runs, interrupted(), bar.last, ended)
    else:
        print_table(runs, repeat=plan.repeat)
    if interrupted():
        print(f"interrupted: {sum(r.status != 'cancelled' for r in runs)} finished cells saved to {path}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_FAILED_CELLS if any(r.status in ("error", "cut") for r in runs) else 0


# -- Ctrl+C -----------------------------------------------------------------------------------------

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _on_interrupt(cancel: Callable[[], None], bar: ProgressBar) -> Callable[[], bool]:
    """First Ctrl+C (or SIGTERM) cancels every cell and lets the run save; a second one stops at once."""
    state = {"hit": False}
    loop = asyncio.get_running_loop()

    def handler() -> None:
        state["hit"] = True
        bar.note("cancelling: saving finished cells (Ctrl+C again to quit now)")
        _restore_interrupt()
        cancel()

    for sig in _SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: KeyboardInterrupt instead
            loop.add_signal_handler(sig, handler)
    return lambda: state["hit"]


def _restore_interrupt() -> None:
    loop = asyncio.get_running_loop()
    for sig in _SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(sig)


# -- progress ---------------------------------------------------------------------------------------


class ProgressBar:
    """One redrawn line on a terminal; on a pipe, a line every few seconds and a last one."""

    def __init__(self, out: TextIO, total: int, *, width: int = 24) -> None:
        self.out = out
        self.total = total
        self.width = width
        self.tty = out.isatty()
        self.last = Progress(0, total, 0, None)
        self._printed = 0.0
        self._drawn = False
        self._last_line = ""

    def on_event(self, event: EngineEvent) -> None:
        if isinstance(event, Progress):
            self.last = event
            self._draw()
        elif isinstance(event, CellFailed):
            self.note(f"{event.cell.case} / {event.cell.profile} / {event.cell.model}: {event.run.error}")
        elif isinstance(event, ConversationEnded) and not event.failed:  # failures are noted above
            cell = event.cell
            self.note(f"{cell.case} / {cell.profile} / {cell.model}: simulated conversation ended after "
                      f"{event.turns} user turn{'s' if event.turns != 1 else ''}: {event.reason}")

    def note(self, text: str) -> None:
        if self.tty and self._drawn:
            self.out.write("\r\x1b[K")
        self.out.write(text + "\n")
        self._drawn = False
        self._draw(force=True)

    def close(self) -> None:
        self._draw(force=True)
        if self.tty and self._drawn:
            self.out.write("\n")
        self.out.flush()

    def _draw(self, *, force: bool = False) -> None:
        p = self.last
        now = time.monotonic()
        if not self.tty and not force and p.done < p.total and now - self._printed < 2.0:
            return
        self._printed = now
        filled = int(self.width * p.done / p.total) if p.total else self.width
        cost = format_cost(p.cost_usd, partial=p.cost_unknown > 0)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {p.done}/{p.total} cells, {p.tokens} tokens, {cost}"
        for count, label in ((p.failed, "failed"), (p.cancelled, "cancelled")):
            line += f", {count} {label}" if count else ""
        if p.simulator_calls:  # its own calls, apart from the cells'
            line += " + " + simulator_words(p.simulator_calls, p.simulator_tokens, p.simulator_cost_usd,
                                            p.simulator_cost_unknown)
        if self.tty:
            self.out.write("\r\x1b[K" + line)
            self._drawn = True
        elif line != self._last_line:
            self.out.write(line + "\n")
        self._last_line = line
        self.out.flush()


# -- results ----------------------------------------------------------------------------------------


def print_table(runs: list[Run], *, repeat: int = 1, out: TextIO | None = None) -> None:
    """Case x variant: first line of the output (or the error), tokens, latency, cost.

    A simulated conversation's turns follow its first reply as `case +N` rows: who wrote the
    user message (simulated or scripted), the message, then the reply. A case with no fixed turn
    shows its first row the same way (the simulated user wrote that message too)."""
    out = out or sys.stdout
    rows = [("case", "variant", "output", "tokens", "latency", "cost")]
    depth: dict[str, int] = {}
    for r in runs:
        variant = f"{r.profile}/{r.model}" + (f"#{r.sample}" if repeat > 1 else "")
        case, summary = r.case, _summary(r)
        if r.user_turn is not None:  # a root too, when the simulated user wrote the first message
            if r.parent is not None:
                depth[r.id] = depth.get(r.parent, 0) + 1
                case = f"{r.case} +{depth[r.id]}"
            asked = said(r)
            summary = f"[{r.user_turn}] {asked} -> {summary}" if asked else f"[{r.user_turn}] {summary}"
        rows.append((case, variant, summary, _tokens(r), _latency(r), _cost(r)))
    fixed = [max(len(row[i]) for row in rows) for i in range(6)]
    room = shutil.get_terminal_size((120, 24)).columns - sum(fixed) + fixed[2] - 10
    fixed[2] = max(20, min(fixed[2], room))
    for row in rows:
        cells = [_fit(text, fixed[i]) for i, text in enumerate(row)]
        left = "  ".join(cell.ljust(fixed[i]) for i, cell in enumerate(cells[:3]))
        right = "  ".join(cell.rjust(fixed[i + 3]) for i, cell in enumerate(cells[3:]))
        print(f"{left}  {right}".rstrip(), file=out)


def _summary(run: Run) -> str:
    first = next((line.strip() for line in run.output.splitlines() if line.strip()), "")
    calls = calls_summary(run.tool_calls)
    if calls or run.notice:  # tool calls first, compactly; a notice (no call, round limit) in brackets
        noted = f"({run.notice})" if run.notice else ""
        first = " ".join(part for part in (calls, noted, first) if part)
    if run.status == "ok":
        return first or "(empty answer)"
    if run.status == "cancelled":
        return f"(cancelled) {first}".rstrip()
    label = "CUT" if run.status == "cut" else "ERROR"
    return f"{label}: {run.error or 'failed'}" + (f" | {first}" if first else "")


def _tokens(run: Run) -> str:
    return "?" if run.usage.completion_tokens is None else str(run.usage.completion_tokens)


def _latency(run: Run) -> str:
    return "?" if run.latency_ms is None else f"{run.latency_ms / 1000:.2f}s"


def _cost(run: Run) -> str:
    if run.cached:
        return "free (cached)"
    return format_cost(run.cost_usd)


def _fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def simulator_json(p: Progress) -> dict[str, Any]:
    """`simulator` in `--json`: the simulated user's calls, tokens and cost, apart from the cells'."""
    return {"calls": p.simulator_calls, "tokens": p.simulator_tokens, "cost_usd": p.simulator_cost_usd,
            "cost_unknown": p.simulator_cost_unknown}


def _print_json(path: Path, runs: list[Run], interrupted: bool, progress: Progress,
                ended: list[ConversationEnded] | None = None) -> None:
    payload = {
        "file": str(path),
        "interrupted": interrupted,
        "cells": progress.total,
        "done": progress.done,
        "failed": progress.failed,
        "cancelled": progress.cancelled,
        "tokens": progress.tokens,
        "cost_usd": progress.cost_usd,
        "cost_unknown": progress.cost_unknown,
        "runs": [r.model_dump(mode="json", by_alias=True) for r in runs],
    }
    if ended:  # only with simulated users: how each conversation ended, and what the simulator cost
        payload["conversations"] = [
            {"case": e.cell.case, "profile": e.cell.profile, "model": e.cell.model, "sample": e.cell.sample,
             "user_turns": e.turns, "reason": e.reason, "failed": e.failed,
             "end": e.end.model_dump(mode="json") if e.end is not None else None}
            for e in ended
        ]
        payload["simulator"] = simulator_json(progress)
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")  # one write, not 66,000


__all__ = ["ProgressBar", "print_table", "register", "run", "simulator_json"]
