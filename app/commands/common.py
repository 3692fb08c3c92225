"""What every command does with its prototype file: load it or print the problems, save it or say why not."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.core.document import save_prototype
from app.core.errors import PrototypeError
from app.core.journal import load_recovering
from app.core.prototype import Prototype


def load_or_report(path: str | Path) -> Prototype | None:
    """The prototype at `path`, or None after printing each problem as FILE:LINE:COL (exit 2 follows).

    Cells journaled by a run that was killed are folded into the file first (see `core/journal.py`)."""
    try:
        proto, recovered = load_recovering(path)
    except PrototypeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None
    except OSError as exc:
        print(f"protostudio: cannot save recovered cells into {path}: {exc.strerror or exc}", file=sys.stderr)
        return None
    if recovered:
        print(f"recovered {recovered} finished cell(s) from an interrupted run into {path}", file=sys.stderr)
    return proto


def save_or_report(command: str, proto: Prototype, path: str | Path) -> bool:
    """Save atomically; on failure say so (the file on disk is unchanged) and return False."""
    try:
        save_prototype(proto, path)
    except OSError as exc:
        print(f"protostudio {command}: cannot save {path}: {exc.strerror or exc}; the file is unchanged",
              file=sys.stderr)
        return False
    return True


# -- concurrency limits shared by `run` and `eval` --------------------------------------------------

DEFAULT_PER_PROVIDER = 4


def add_limit_arguments(parser: Any) -> None:
    """`--per-provider N` and `--provider-limit ID=N`: how many requests at once per endpoint."""
    parser.add_argument("--per-provider", type=at_least_one, default=DEFAULT_PER_PROVIDER, metavar="N",
                        help=f"requests at once per provider endpoint (default {DEFAULT_PER_PROVIDER}; "
                        "halved per model on 429 and grown back; the bundled model is capped at its workers)")
    parser.add_argument("--provider-limit", action="append", default=[], type=_provider_limit,
                        metavar="ID=N", help="requests at once for one provider, over its setting "
                        "(`providers add --concurrency`) and --per-provider (repeatable)")


def provider_limits(args: argparse.Namespace, registry: Any) -> dict[str, int]:
    """Each provider's own setting, then `--provider-limit` flags over it."""
    from app.providers.registry import concurrency_settings

    limits = concurrency_settings(registry)
    limits.update(dict(args.provider_limit))
    return limits


def at_least_one(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _provider_limit(text: str) -> tuple[str, int]:
    provider, sep, number = text.partition("=")
    if not sep or not provider:
        raise argparse.ArgumentTypeError(f"expected PROVIDER=N such as openai=2, got {text!r}")
    return provider.strip(), at_least_one(number)
