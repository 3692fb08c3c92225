"""`protostudio eval FILE`: grade every case's assertions over the chosen variants, save the eval run, report.

Exit codes: 0 passed; 1 the pass rate is under `--fail-under`, or `--compare-to` found a
regression (each one is named); 2 bad input (a malformed file, unknown ids, bad assertions,
nothing to grade); 3 a model call failed (no output to grade: a failed call is not a pass;
`--allow-errors` counts such cases as failed instead, then 0 or 1 as above); 130 interrupted.
When several apply, the lowest-numbered non-zero reason other than 1 wins: 2, then 3, then 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.commands import batch_mode
from app.commands.common import add_limit_arguments, provider_limits, save_or_report
from app.core.atomic import write_atomic
from app.core.errors import PrototypeError
from app.core.journal import load_recovering

if TYPE_CHECKING:
    from app.core.prototype import Run

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CALLS_FAILED = 3


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "eval",
        help="grade the cases' assertions over the variants; exit 1 on regression or low pass rate",
        description="Get an output for every case and variant (reusing matching runs and cached answers), "
        "grade the assertions, store the eval run in FILE and print pass rates per variant and assertion.",
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--profile", action="append", default=[], metavar="P", help="profile id (repeatable)")
    parser.add_argument(
        "--model", action="append", default=[], metavar="M", help="model target id (repeatable)"
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also run the prompted baseline (same model, no system prompt) and report "
        "how well each assertion discriminates",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="write machine-readable results to PATH ('-' for stdout)"
    )
    parser.add_argument("--junit", metavar="PATH", help="write JUnit XML to PATH")
    parser.add_argument(
        "--fail-under",
        type=_rate,
        metavar="RATE",
        help="exit 1 when the pass rate is below RATE (0..1, or a percentage like 80%%)",
    )
    parser.add_argument(
        "--compare-to",
        metavar="RUN_ID|last",
        help="exit 1 when a case that passed in that eval run fails now",
    )
    parser.add_argument("--no-cache", action="store_true", help="re-run every cell and judge; reuse nothing")
    add_limit_arguments(parser)
    parser.add_argument(
        "--allow-errors",
        action="store_true",
        help="a failed model call counts as a failed case instead of exiting 3",
    )
    parser.add_argument(
        "--judge",
        metavar="MODEL",
        help="default judge for llm-rubric: a model target id or provider:model "
        "(default: the bundled local model)",
    )
    parser.add_argument(
        "--embedder",
        metavar="MODEL",
        help="embedding model for similar: a model target id or provider:model "
        "(default: the bundled local model)",
    )
    batch_mode.add_arguments(parser)
    parser.set_defaults(func=run)


def _rate(text: str) -> float:
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a rate such as 0.8 or 80%, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a rate must be between 0 and 1 (or 0% and 100%), got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    from app.core.evals.validation import check_prototype_assertions
    from app.engine.evals import EvalOptions

    path = Path(args.file)
    try:
        proto, recovered = load_recovering(path)
        if recovered:
            print(f"recovered {recovered} finished cell(s) from an interrupted run into {path}",
                  file=sys.stderr)
        check_prototype_assertions(proto, str(path), path.read_text(encoding="utf-8"))
    except PrototypeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"protostudio eval: cannot save recovered cells into {path}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_USAGE
    options = EvalOptions(
        profiles=args.profile,
        models=args.model,
        baseline=args.baseline,
        use_cache=not args.no_cache,
        judge=args.judge,
        embedder=args.embedder,
        compare_to=args.compare_to,
    )
    if args.batch:
        code = _batch_phase(proto, path, options, args)
        if code is not None:
            return code
    return asyncio.run(_eval(proto, path, options, args))


def _batch_phase(proto: Any, path: Path, options: Any, args: argparse.Namespace) -> int | None:
    """Get the outputs through the provider's Batch API first; grading then reuses them from the file.
    Returns an exit code when there is nothing to grade yet (a batch still pending, or it could not run)."""
    from app.core.batch import pending_jobs
    from app.engine.plan import RunPlan

    graded = [c.id for c in proto.cases if proto.default_assert or c.assert_]
    if not graded:
        return None
    plan = RunPlan(profiles=options.profiles, models=options.models, cases=graded,
                   use_cache=options.use_cache)
    try:
        code = asyncio.run(batch_mode.run_batch(proto, path, plan, "eval", args))
    except KeyboardInterrupt:
        print(f"stopped waiting; run `protostudio eval {path} --batch` again to collect the batch",
              file=sys.stderr)
        return 130
    if code == 130 or pending_jobs(proto.batches, "eval"):
        return code or 1
    return None


def _journal(write: Any) -> None:
    """Journal an answer; a journal that cannot be written (a full disk, a planted symlink) costs
    only the SIGKILL safety net, never the eval: the save at the end still holds every answer."""
    try:
        write()
    except OSError as exc:
        print(f"warning: cannot write the journal: {exc.strerror or exc}", file=sys.stderr)


async def _eval(proto: Any, path: Path, options: Any, args: argparse.Namespace) -> int:
    from app.core.conversations import conversation_json
    from app.core.evals.report import format_table, junit_xml, results_json
    from app.core.journal import Journal
    from app.core.results import record_eval
    from app.engine.engine import Engine
    from app.engine.evals import EvalError, EvalRunner
    from app.providers.hub import ProviderHub

    hub = ProviderHub()
    engine = Engine(hub, per_provider=args.per_provider, provider_limits=provider_limits(args, hub.registry))
    progress = Progress(sys.stderr)
    journal = Journal(path)  # each answer survives a SIGKILL before the save at the end (as in `run`)
    try:
        outcome = await EvalRunner(hub, engine).run(
            proto, options, progress.on_progress,
            on_run=lambda run: _journal(lambda: journal.append_many([run], sync=False)),
            on_end=lambda run_id, end: _journal(lambda: journal.append_end(run_id, end, sync=False)))
    except EvalError as exc:
        print(f"protostudio eval: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        progress.close()
        journal.close()
        await hub.aclose()
    record_eval(proto, outcome.new_runs, outcome.eval_run)
    if not save_or_report("eval", proto, path):
        return EXIT_USAGE
    journal.discard()  # the file holds every answer now
    run, summary = outcome.eval_run, outcome.summary
    table = format_table(run, summary, outcome.regressions, outcome.skipped_cases)
    data = results_json(run, summary, outcome.regressions, outcome.compared_to, outcome.skipped_cases)
    conversations = graded_conversations(proto, run)
    if conversations:  # additive: only with simulated users, as in `run --json`
        data["conversations"] = [conversation_json(replies) for replies in conversations]
    if args.json == "-":
        print(json.dumps(data, indent=2, ensure_ascii=False))
        print(table, file=sys.stderr)
        print_conversations(conversations, sys.stderr)
    else:
        print(table)
        print_conversations(conversations, sys.stdout)
    reports: list[tuple[str, bytes]] = []
    if args.json and args.json != "-":
        reports.append((args.json, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")))
    if args.junit:
        reports.append((args.junit, junit_xml(run, summary, proto.name)))
    for target, payload in reports:
        try:
            write_atomic(target, payload)
        except OSError as exc:
            print(f"protostudio eval: cannot write {target}: {exc.strerror or exc} "
                  f"(the eval run is saved in {path})", file=sys.stderr)
            return EXIT_USAGE
    print(f"saved eval run {run.id} to {path}", file=sys.stderr)
    code = 0
    if outcome.compared_to is not None and outcome.compared_cells == 0:
        print(
            f"warning: eval run {outcome.compared_to} graded none of the same case × variant cells, "
            "so nothing was compared (pick a run over the same --profile/--model with --compare-to RUN_ID)",
            file=sys.stderr,
        )
    for regression in outcome.regressions:
        print(regression, file=sys.stderr)
        code = EXIT_FAILED
    if args.fail_under is not None and summary.pass_rate < args.fail_under:
        print(
            f"pass rate {summary.pass_rate * 100:.1f}% is under --fail-under {args.fail_under * 100:.1f}%",
            file=sys.stderr,
        )
        code = EXIT_FAILED
    failed_calls = [r for r in run.results if r.error]
    if failed_calls and not args.allow_errors:
        print(f"{len(failed_calls)} of {len(run.results)} model calls failed, so their cases could not be "
              "graded (exit 3; --allow-errors counts them as failed cases instead)", file=sys.stderr)
        code = EXIT_CALLS_FAILED
    return code


def graded_conversations(proto: Any, eval_run: Any) -> list[tuple[Run, ...]]:
    """The simulated or scripted conversations this eval graded, in result order (each: its first
    reply, then its continuations, as `app.core.threads.conversation` follows them)."""
    from app.core.threads import conversation

    simulated = {c.id for c in proto.cases if c.simulated_user is not None}
    by_id = {r.id: r for r in proto.runs}
    out: list[tuple[Run, ...]] = []
    for result in eval_run.results:
        root = by_id.get(result.run) if result.run is not None else None
        if root is None or result.baseline or result.case not in simulated:
            continue
        out.append(conversation(root, proto.runs))
    return out


def print_conversations(conversations: list[tuple[Run, ...]], out: TextIO) -> None:
    """Each graded conversation's turns, the way `run` prints them (`[simulated] msg -> reply`),
    then how it ended."""
    from app.commands.run import print_table
    from app.core.conversations import conversation_end
    from app.core.simulation import end_words

    if not conversations:
        return
    print("\nconversations:", file=out)
    print_table([run for replies in conversations for run in replies], out=out)
    for replies in conversations:
        end = conversation_end(replies)
        root = replies[0]
        if end is not None:
            print(f"{root.case} / {root.profile} / {root.model}: ended: {end_words(end)}", file=out)


class Progress:
    """Eval progress on stderr: a redrawn line on a terminal, one line per stage on a pipe."""

    def __init__(self, out: TextIO, *, every: float = 5.0) -> None:
        self.out = out
        self.tty = out.isatty()
        self.every = every
        self._open = False
        self._last = 0.0

    def on_progress(self, event: Any) -> None:
        label = "running cells" if event.stage == "run" else "grading"
        text = f"{label} {event.done}/{event.total}"
        if self.tty:
            self.out.write("\r\033[K" + text)
            self._open = True
        elif event.total or event.stage == "grade":
            now = time.monotonic()
            if event.done in (event.total, 0) or now - self._last >= self.every:
                self._last = now
                self.out.write(text + "\n")
        self.out.flush()

    def close(self) -> None:
        if self._open:
            self.out.write("\n")
            self.out.flush()
            self._open = False
