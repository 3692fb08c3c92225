"""`protostudio status FILE [--json]`: every cell's current answer, rating and freshness; exits 0.

It reads the cells through `app.core.status`, built on the same `app.core.threads` cell states
the grid shows, so the terminal and the window never disagree about which answer is current.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.commands.common import load_or_report

EXIT_USAGE = 2


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "status", help="show each cell's current answer, rating and whether it is out of date",
        description="For every cell (case x profile x model x sample): the current answer's first line, "
        "its rating, whether it is out of date (the profile, model target or case changed since), and the "
        "number of samples; then totals. Exits 0.",
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--json", action="store_true",
                        help='print {"cells": [...], "totals": {...}} on stdout')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.core.status import cell_statuses, totals

    proto = load_or_report(args.file)
    if proto is None:
        return EXIT_USAGE
    rows = cell_statuses(proto)
    summary = totals(rows)
    if args.json:
        json.dump({"cells": [r.to_json() for r in rows], "totals": summary}, sys.stdout,
                  ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    names = {p.id: p.label for p in proto.profiles} | {f"m:{m.id}": m.label for m in proto.models}
    table = [("case", "profile", "model", "#", "rating", "state", "answer")]
    for row in rows:
        case, profile, model, sample = row.key
        tip = row.current
        thumb = row.state.team_thumb
        state = ("not run" if tip is None else "out of date" if row.state.stale
                 else "current" if row.answered else tip.status)
        answer = _first_line(tip.output if tip is not None else "")
        samples = f"{sample + 1}/{row.samples}" if row.samples > 1 else ""
        if row.ended:  # a simulated conversation: how it ended, after its last reply
            answer = f"{answer}  [{_first_line(row.ended, 50)}]".lstrip()
        table.append((case, names[profile], names[f"m:{model}"], samples,
                      {"up": "👍", "down": "👎"}.get(thumb or "", "-"), state, answer))
    widths = [max(len(line[i]) for line in table) for i in range(6)]
    for line in table:
        cells = [text.ljust(widths[i]) for i, text in enumerate(line[:6])]
        print("  ".join([*cells, line[6]]).rstrip())
    print()
    print(", ".join(f"{value} {name.replace('_', ' ')}" for name, value in summary.items()))
    return 0


def _first_line(text: str, width: int = 60) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


__all__ = ["register", "run"]
