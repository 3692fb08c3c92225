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
    "report": "app.commands.report",
    "export": "app.commands.export",
    "import": "app.commands.import_",
    "status": "app.commands.status",
}
"""Subcommand name -> module with a `register(subparsers)` function."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, just that subcommand is imported (fast start-up)."""
    parser = argparse.ArgumentParser(
        prog="protostudio",
        description="Prototype model behavior. With no command, opens the desktop app "
        "(`protostudio FILE.yaml` opens that file).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module_name).register(sub)
    return parser


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
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _launch_gui(args_list: list[str]) -> int:
    from app.ui.main import launch

    return launch(args_list)


if __name__ == "__main__":
    raise SystemExit(main())
