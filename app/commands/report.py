"""`protostudio report FILE`: per-variant 👍 rate, win rate and Bradley-Terry score with a 95% CI.

The numbers come from `app.core.scoring`, the same code the Results panel draws. Exit codes:
0 printed, 2 the file could not be loaded (each problem printed as `FILE:LINE:COL: message`).
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from typing import Any

from app.commands.common import load_or_report
from app.commands.report_agreement import agreement_dumps, agreement_text
from app.core.prototype import Prototype
from app.core.scoring import DEFAULT_SAMPLES, PairRecord, Tally, VariantScore, collect, head_to_head, rank
from app.core.tool_usage import tool_usage

NAME = "report"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        NAME,
        help="print human win rates: 👍 rate, pairwise win rate, Bradley-Terry score with 95%% CI",
        description="Score the variants of a prototype from its thumbs and pairwise votes.",
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--blind-only", action="store_true", help="count only votes cast in blind mode")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--samples", type=int, default=DEFAULT_SAMPLES, metavar="N",
        help=f"bootstrap resamples for the confidence intervals (default {DEFAULT_SAMPLES}; 0 skips them)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the bootstrap (default 0)")
    parser.add_argument(
        "--rater", metavar="NAME",
        help="count only this rater's thumbs and votes (`unknown`: ratings made without a rater)",
    )
    parser.add_argument(
        "--agreement", action="store_true",
        help="print agreement instead: between raters (kappa/alpha), checks vs thumbs (2x2), position bias",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.samples < 0:
        print("protostudio report: --samples must be 0 or more", file=sys.stderr)
        return 2
    proto = load_or_report(args.file)
    if proto is None:
        return 2
    if args.agreement:
        if not args.json and hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="replace")
        print(agreement_dumps(proto, str(args.file)) if args.json else agreement_text(proto))
        return 0
    tally = collect(proto, blind_only=args.blind_only, rater=args.rater)
    rows = rank(tally, samples=args.samples, seed=args.seed)
    pairs = head_to_head(tally)
    if args.json:
        payload = _as_json(args, tally, rows, pairs)
        payload["tool_usage"] = [  # added field: older readers ignore it
            {"profile": u.profile, "model": u.model, "answers": u.answers, "with_call": u.with_call,
             "canvas_opened": u.canvas_opened, "calls": dict(sorted(u.calls.items()))}
            for u in tool_usage(proto)
        ]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="replace")
        print(_as_text(proto.name, tally, rows, pairs) + _tools_text(proto))
    return 0


# -- JSON --------------------------------------------------------------------------------------------


def _as_json(
    args: argparse.Namespace, tally: Tally, rows: list[VariantScore], pairs: list[PairRecord]
) -> dict[str, Any]:
    return {
        "file": str(args.file),
        "blind_only": tally.blind_only,
        "rater": args.rater,
        "votes": len(tally.votes),
        "samples": args.samples,
        "seed": args.seed,
        "variants": [
            {
                "profile": r.variant.profile,
                "model": r.variant.model,
                "label": r.label,
                "thumbs_up": r.thumbs_up,
                "thumbs_down": r.thumbs_down,
                "thumb_rate": r.thumb_rate,
                "wins": r.wins,
                "losses": r.losses,
                "ties": r.ties,
                "both_bad": r.both_bad,
                "win_rate": r.win_rate,
                "bt_score": r.bt_score,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "votes": r.votes,
            }
            for r in rows
        ],
        "pairs": [
            {
                "a": {"profile": p.a.profile, "model": p.a.model},
                "b": {"profile": p.b.profile, "model": p.b.model},
                "a_wins": p.a_wins,
                "b_wins": p.b_wins,
                "ties": p.ties,
                "both_bad": p.both_bad,
                "a_win_rate": p.win_rate,
            }
            for p in pairs
        ],
    }


# -- table -------------------------------------------------------------------------------------------

HEADERS = ("Variant", "👍 rate", "Win rate", "W/L/T", "Both bad", "BT score (95% CI)", "Votes")
RIGHT = {1, 2, 3, 4, 6}


def _as_text(name: str, tally: Tally, rows: list[VariantScore], pairs: list[PairRecord]) -> str:
    blind = sum(1 for v in tally.votes if v.blind)
    which = "blind votes only" if tally.blind_only else f"{len(tally.votes)} votes, {blind} blind"
    lines = [f"{name}: {len(rows)} variants, {which}", ""]
    if not rows:
        lines.append("No runs yet: run the prototype (`protostudio run FILE` or the app), then rate answers.")
        return "\n".join(lines)
    lines += _table([HEADERS, *(_cells(r) for r in rows)])
    if pairs:
        lines += ["", "Head to head (first variant's win rate; ties count half)"]
        labels = {r.variant: r.label for r in rows}
        head: list[tuple[str, ...]] = [("First", "Second", "Win rate", "W/L/T", "Both bad")]
        head += [
            (labels[p.a], labels[p.b], _pct(p.win_rate), f"{p.a_wins}/{p.b_wins}/{p.ties}", str(p.both_bad))
            for p in pairs
        ]
        lines += _table(head, right={2, 3, 4})
    if not tally.votes:
        lines += ["", "No pairwise votes yet: open the file in Protostudio, pick two columns in "
                  "Pairwise mode and vote (keys 1-4)."]
    return "\n".join(lines)


def _tools_text(proto: Prototype) -> str:
    """Tool calls per variant of a profile with tools, over the current answers; "" when none."""
    usage = tool_usage(proto)
    if not usage:
        return ""
    lines = ["", "", "Tool calls (current answers)"]
    lines += [f"  {u.profile}/{u.model}: {u.summary()}; canvas opened in {u.canvas_opened}" for u in usage]
    return "\n".join(lines)


def _cells(r: VariantScore) -> tuple[str, ...]:
    thumbs = f"{_pct(r.thumb_rate)} ({r.thumbs_up}/{r.rated})" if r.rated else "–"
    if r.bt_score is None:
        score = "–"
    elif r.ci_low is None or r.ci_high is None:
        score = f"{r.bt_score:.0f}"
    else:
        score = f"{r.bt_score:.0f} ({r.ci_low:.0f}–{r.ci_high:.0f})"
    return (r.label, thumbs, _pct(r.win_rate), f"{r.wins}/{r.losses}/{r.ties}", str(r.both_bad), score,
            str(r.votes))


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


def _table(rows: list[tuple[str, ...]], right: set[int] = RIGHT) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            cells.append(pad + cell if i in right else cell + pad)
        out.append("  ".join(cells).rstrip())
    return out


def _width(text: str) -> int:
    """Terminal columns: wide characters such as 👍 take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
