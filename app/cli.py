"""The `protostudio` command: the GUI with no arguments, or a subcommand that drives the same engine.

Each subcommand lives in its own module under `app/commands/` and exposes
`register(subparsers)`. Subcommand names, flags and exit codes are a public contract:
keep them stable once shipped.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, str] = {
    "validate": "app.commands.validate",
    "schema": "app.commands.schema",
    "providers": "app.commands.providers",
    "ask": "app.commands.ask",
    "run": "app.commands.run",
    "eval": "app.commands.eval",
    "seed": "app.commands.seed",
    "generate": "app.commands.generate",
    "report": "app.commands.report",
    "export": "app.commands.export",
    "import": "app.commands.import_",
    "status": "app.commands.status",
    "rate": "app.commands.rate",
    "merge": "app.commands.merge",
    "attach": "app.commands.attach",
}
"""Subcommand name -> module with a `register(subparsers)` function."""

SUMMARIES: dict[str, str] = {
    "validate": "check prototype files; print FILE:LINE:COL for each problem",
    "schema": "print the JSON Schema of prototype files",
    "providers": "list model providers and manage custom ones and their keys",
    "ask": "stream one answer from a model",
    "run": "run profiles x models x cases headless and save the results into the file",
    "eval": "grade the cases' assertions over the variants; exit 1 on regression or low pass rate",
    "seed": "propose assertions from 👍/👎 ratings, notes and behavior specs; review, then write",
    "generate": "propose cases from the behavior spec with a model; review, then write",
    "report": "print human win rates: 👍 rate, pairwise win rate, Bradley-Terry score with 95%% CI "
    "(--agreement: agreement between raters)",
    "export": "write the prototype as a promptfoo config, openai/evals registry, or DPO pairs",
    "import": "read a promptfoo config into a new prototype file",
    "status": "show each cell's current answer, rating and whether it is out of date",
    "rate": "rate one run: thumbs up/down or clear, with an optional note and tags, as one rater",
    "merge": "merge copies of a prototype: BASE OURS THEIRS (git merge driver) or A B",
    "attach": "attach image files to a case's user turn (path relative to the file, with its sha256)",
}
"""One line per subcommand for `protostudio --help`, so listing them imports none of their modules
(those pull in pydantic, openai, numpy: about a second). A command missing here is imported."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, just that subcommand is imported, and the others are listed
    from `SUMMARIES` (fast start-up)."""
    parser = argparse.ArgumentParser(
        prog="protostudio",
        description="Prototype model behavior. With no command, opens the desktop app "
        "(`protostudio FILE.yaml` opens that file).",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if name == only or (only is None and name not in SUMMARIES):
            importlib.import_module(module_name).register(sub)
        elif only is None:
            sub.add_parser(name, help=SUMMARIES[name], add_help=False)
    return parser


class _VersionAction(argparse.Action):
    """`--version`, looked up only when asked for (importlib.metadata costs ~60 ms at start-up)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("protostudio")
    except PackageNotFoundError:
        return "dev"


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMANDS and not args_list[0].startswith("-")):
        return _launch_gui(args_list)
    wanted = args_list[0] if args_list[0] in COMMANDS and "-h" not in args_list[:1] else None
    parser = build_parser(only=wanted)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        code = int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        code = 0
    if argv is None:  # the command line itself, not a caller in this process
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process once the command is done, skipping the interpreter's teardown.

    Tearing down frees every module, class and object one by one: 0.1-0.3 s after `eval` had
    already saved and printed everything (bench/README.md, "CLI fixed costs"). Output is flushed
    and exit handlers run (the bundled model's children are stopped there) before `os._exit`.
    Returns without exiting, for the usual teardown, while a non-daemon thread is still working
    or the output cannot be flushed."""
    import atexit
    import os
    import threading

    if any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: let the normal exit report it
        return
    os._exit(code)


def _launch_gui(args_list: list[str]) -> int:
    from app.ui.main import launch

    return launch(args_list)


if __name__ == "__main__":
    raise SystemExit(main())
