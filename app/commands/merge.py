"""`protostudio merge BASE OURS THEIRS [-o OUT]` (three-way, a git merge driver) or `merge A B [-o OUT]`.

Runs, ratings, votes and eval runs are unioned; definitions merge field by field (`app.core.merge`).
Three-way writes the result to OURS unless `-o` is given, which is what git expects of a driver;
two-way prints it unless `-o` is given. Exit codes: 0 merged, 1 conflicts (each printed as
`FILE:LINE:COL: conflict at PATH` with both values; nothing written unless `-o`, which then gets
both versions between git-style markers that `validate` refuses until resolved), 2 an input could
not be loaded or the output could not be written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from app.core.atomic import remove_stale_temps, write_atomic
from app.core.document import MAX_FILE_BYTES
from app.core.errors import PrototypeError
from app.core.merge import Side, conflict_text, describe, merge
from app.core.regular_file import NotReadable, read_regular_bytes

NAME = "merge"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        NAME,
        help="merge copies of a prototype: BASE OURS THEIRS (git merge driver) or A B",
        description="Merge two copies of a prototype (A B) or three (BASE OURS THEIRS, as a git merge "
        "driver). "
        "Runs, ratings, votes and eval runs are unioned; profiles, rules, models, cases and assertions merge "
        "field by field, and a field changed differently on both sides is a conflict (exit 1).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="BASE OURS THEIRS, or A B")
    parser.add_argument(
        "-o", "--output", metavar="OUT",
        help="write the result here; on conflict, write both versions between <<<<<<< markers",
    )
    parser.add_argument(
        "--name", metavar="PATH", help="the file's name in messages and markers (git driver: %%P)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    files: list[str] = args.files
    if len(files) not in (2, 3):
        print("protostudio merge: give BASE OURS THEIRS (three-way) or A B (two-way)", file=sys.stderr)
        return 2
    sides = _load(files, args.name)
    if sides is None:
        return 2
    base, ours, theirs = (None, *sides) if len(sides) == 2 else sides
    assert ours is not None and theirs is not None
    try:
        result = merge(base, ours, theirs)
    except PrototypeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print("protostudio merge: the merged document is invalid; nothing was written", file=sys.stderr)
        return 2
    out = args.output or (files[1] if len(files) == 3 else None)
    if result.conflicts:
        for conflict in result.conflicts:
            print(describe(conflict, ours, theirs), file=sys.stderr)
        count = len(result.conflicts)
        if args.output is None:
            print(f"protostudio merge: {count} conflict(s); nothing was written "
                  "(-o OUT writes both versions to resolve by hand)", file=sys.stderr)
            return 1
        text = conflict_text(result, f"ours: {ours.name}", f"theirs: {theirs.name}")
        if not _write(args.output, text):
            return 2
        print(f"protostudio merge: {count} conflict(s); wrote both versions to {args.output}: keep one side "
              "between each <<<<<<< and >>>>>>>, then `protostudio validate` it", file=sys.stderr)
        return 1
    if out is None:
        sys.stdout.write(result.text)
        return 0
    return 0 if _write(out, result.text) else 2


def _load(files: list[str], shown: str | None) -> list[Side] | None:
    sides: list[Side] = []
    failed = False
    labels = ("base", "ours", "theirs") if len(files) == 3 else ("A", "B")
    for path, label in zip(files, labels, strict=True):
        name = f"{shown} ({label})" if shown else path
        try:  # a FIFO or /dev/zero is refused before a byte is read; the read is bounded
            text = read_regular_bytes(path, MAX_FILE_BYTES).decode("utf-8")
            sides.append(Side.parse(text, name))
        except NotReadable as exc:
            print(f"{name}:1:1: cannot read file: it {exc.reason}", file=sys.stderr)
            failed = True
        except OSError as exc:
            print(f"{name}:1:1: cannot read file: {exc.strerror or exc}", file=sys.stderr)
            failed = True
        except UnicodeDecodeError:
            print(f"{name}:1:1: file is not UTF-8 text", file=sys.stderr)
            failed = True
        except PrototypeError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            failed = True
    return None if failed else sides


def _write(path: str, text: str) -> bool:
    try:
        remove_stale_temps(path)  # a merge killed earlier left its temp file; no one else will
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        print(f"protostudio merge: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """`protostudio merge ARGS` without the rest of the CLI (tests call it in-process)."""
    parser = argparse.ArgumentParser(prog="protostudio")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([NAME, *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
