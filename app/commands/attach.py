"""`protostudio attach FILE CASE IMAGE... [--turn N]`: attach images to a case's user turn.

Each image is checked (type, size limit) and recorded with its path relative to the prototype and
its sha256, then the file is saved atomically. Exit codes: 0 saved, 2 the file could not be loaded
or saved, or an image, the case or the turn is wrong (nothing is changed).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.commands.common import load_or_report, save_or_report
from app.core.images import ImageError, attach_to_case


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "attach",
        help="attach image files to a case's user turn (path relative to the file, with its sha256)",
        description="Attach images to a case's user turn and save the file atomically.",
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("case", metavar="CASE", help="the case id")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, WEBP or GIF files")
    parser.add_argument("--turn", type=int, default=None,
                        help="index of the user turn in the case's turns (default: its last user turn)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    proto = load_or_report(args.file)
    if proto is None:
        return 2
    try:
        refs = attach_to_case(proto, args.case, list(args.images), args.turn)
    except (KeyError, IndexError, ImageError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"protostudio attach: {message}", file=sys.stderr)
        return 2
    if not save_or_report("attach", proto, args.file):
        return 2
    for ref in refs:
        print(f"attached {ref.path} ({ref.sha256}) to case {args.case}")
    return 0
