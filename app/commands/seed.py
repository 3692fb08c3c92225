"""`protostudio seed FILE`: propose assertions from ratings and behavior specs; write only what is accepted.

Each proposal is shown with where it came from and which case it targets, and asked about
(y/n/a/q) on a terminal. `--yes` accepts all. With no terminal and no `--yes`, nothing is
written. Exit codes: 0 done (even when nothing was accepted); 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.commands.common import load_or_report, save_or_report
from app.core.evals.textchecks import one_line
from app.core.seeding import Proposal, apply, propose

EXIT_USAGE = 2


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "seed",
        help="propose assertions from 👍/👎 ratings, notes and behavior specs; review, then write",
        description="Turn ratings into evals: a 👍 output becomes a `similar` reference, a 👎 output a "
        "`not-similar` one, a note on a 👎 a draft `llm-rubric`, and behavior-spec rules rubric assertions "
        "(their examples references). Each proposal is reviewed before it is written into FILE.",
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--yes", "-y", action="store_true", help="accept every proposal without asking")
    parser.add_argument("--json", action="store_true", help="print the proposals as JSON (nothing is asked)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    proto = load_or_report(path)
    if proto is None:
        return EXIT_USAGE
    proposals = propose(proto)
    if args.json:
        print(json.dumps([p.to_json() for p in proposals], indent=2, ensure_ascii=False))
    if not proposals:
        print(
            "nothing to propose: rate some outputs 👍/👎 (with notes) or add behavior-spec rules first",
            file=sys.stderr,
        )
        return 0
    if args.yes:
        accepted = proposals
        if not args.json:
            for number, proposal in enumerate(proposals, 1):
                print(_describe(number, len(proposals), proposal))
    elif args.json or not sys.stdin.isatty():
        if not args.json:
            for number, proposal in enumerate(proposals, 1):
                print(_describe(number, len(proposals), proposal))
        print(
            f"{len(proposals)} proposals; nothing written (no terminal to ask on: pass --yes to accept all)",
            file=sys.stderr,
        )
        return 0
    else:
        accepted = _ask(proposals)
    if not accepted:
        print("nothing accepted; the file is unchanged", file=sys.stderr)
        return 0
    apply(proto, accepted)
    if not save_or_report("seed", proto, path):
        return EXIT_USAGE
    print(f"added {len(accepted)} of {len(proposals)} proposed assertions to {path}", file=sys.stderr)
    return 0


def _describe(number: int, total: int, proposal: Proposal) -> str:
    from app.core.evals.assertions import describe

    where = (
        "every case (default_assert)" if proposal.target == "default_assert" else f"case {proposal.target}"
    )
    return (
        f"[{number}/{total}] {describe(proposal.assertion, 70)}\n"
        f"        for {where}; {one_line(proposal.origin, 100)}"
    )


def _ask(proposals: list[Proposal]) -> list[Proposal]:
    accepted: list[Proposal] = []
    for number, proposal in enumerate(proposals, 1):
        print(_describe(number, len(proposals), proposal))
        while True:
            try:
                answer = input("  add it? [y]es / [n]o / [a]ll remaining / [q]uit: ").strip().lower()
            except EOFError:
                answer = "q"
            if answer in ("y", "yes"):
                accepted.append(proposal)
                break
            if answer in ("n", "no", ""):
                break
            if answer in ("a", "all"):
                return accepted + proposals[number - 1 :]
            if answer in ("q", "quit"):
                return accepted
    return accepted
