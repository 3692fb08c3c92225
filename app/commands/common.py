"""What every command does with its prototype file: load it or print the problems, save it or say why not."""

from __future__ import annotations

import sys
from pathlib import Path

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
