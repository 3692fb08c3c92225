"""`protostudio rate FILE --run RUN_ID (--up | --down | --clear) [--note TEXT] [--tag T]... [--rater NAME]`.

For teams who label in bulk or bring ratings in from elsewhere (`protostudio run --json` prints run
ids). Sets one rater's rating of one run and saves atomically. The rater is `--rater`, else
`PROTOSTUDIO_RATER`, else the name in Settings, else the OS login name. Exit codes: 0 saved (or
nothing to change), 2 the file could not be loaded or saved, or there is no such run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from app.commands.common import load_or_report, save_or_report
from app.core.rater import RATER_ENV, current_rater
from app.core.ratings import clear_rating, rating_of, set_rating

NAME = "rate"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        NAME,
        help="rate one run: thumbs up/down or clear, with an optional note and tags, as one rater",
        description="Set one rater's rating of one run and save the file atomically.",
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--run", required=True, metavar="RUN_ID", help="the run to rate (see `run --json`)")
    thumb = parser.add_mutually_exclusive_group(required=True)
    thumb.add_argument("--up", action="store_const", const="up", dest="thumb", help="thumbs up")
    thumb.add_argument("--down", action="store_const", const="down", dest="thumb", help="thumbs down")
    thumb.add_argument("--clear", action="store_true", help="remove this rater's rating of the run")
    parser.add_argument("--note", default=None, metavar="TEXT", help="why it is good or bad")
    parser.add_argument("--tag", action="append", default=None, metavar="T", help="a label; repeat for more")
    parser.add_argument(
        "--rater", metavar="NAME", help=f"who is rating (default: ${RATER_ENV}, Settings, then the OS login)"
    )
    parser.add_argument("--json", action="store_true", help="print the stored rating as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.clear and (args.note is not None or args.tag is not None):
        print("protostudio rate: --clear removes the whole rating; leave out --note and --tag",
              file=sys.stderr)
        return 2
    proto = load_or_report(args.file)
    if proto is None:
        return 2
    try:
        target = proto.run(args.run)
    except KeyError:
        print(f"protostudio rate: no run {args.run!r} in {args.file}", file=sys.stderr)
        return 2
    rater = current_rater(args.rater)
    if args.clear:
        changed = clear_rating(target, rater)
    else:
        before = rating_of(target, rater)
        changed = set_rating(
            target, rater, thumb=args.thumb,
            note=before.note if args.note is None else args.note,
            tags=before.tags if args.tag is None else args.tag,
        )
    if changed and not save_or_report(NAME, proto, args.file):
        return 2
    stored = rating_of(target, rater)
    if args.json:
        print(json.dumps({"run": target.id, "rater": rater, "changed": changed, "thumb": stored.thumb,
                          "note": stored.note, "tags": stored.tags, "updated": stored.updated},
                         ensure_ascii=False))
    else:
        what = "cleared" if stored.thumb is None else f"{stored.thumb}"
        print(f"{target.id}: {what} by {rater}" + ("" if changed else " (unchanged)"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`protostudio rate ARGS` without the rest of the CLI (tests call it in-process)."""
    parser = argparse.ArgumentParser(prog="protostudio")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([NAME, *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
