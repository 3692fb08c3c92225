"""`protostudio generate FILE`: a model proposes cases from the behavior spec; only accepted ones are written.

Each behavior-spec rule (with its good/bad examples), the profiles' system prompts and the
prototype's description go into a versioned generation prompt, one request per probe of the grid
rule x kind x persona (`app/core/casegen`). Proposals that repeat an existing case or each other
are dropped. On a terminal each proposal is asked about (y/n/e/a/q); `--yes` accepts all; with no
terminal and no `--yes` (or with `--json` and no `--yes`) nothing is written.

Exit codes: 0 done (even when nothing was accepted); 2 bad input; 3 every model call failed or gave
no usable reply (nothing to review); 130 interrupted before any proposal arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from app.commands.common import (
    add_limit_arguments,
    at_least_one,
    load_or_report,
    provider_limits,
    save_or_report,
)

EXIT_USAGE = 2
EXIT_CALLS_FAILED = 3
JSON_SHAPE_VERSION = 1
"""Bumped if the `--json` shape changes incompatibly (documented in docs/prototype-format.md)."""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "generate",
        help="propose cases from the behavior spec with a model; review, then write",
        description="Ask a model (default: the bundled one) for test cases that probe each behavior-spec "
        "rule: typical, boundary, ambiguous, adversarial, off-topic and other-language requests from "
        "different personas. Near-duplicates of existing cases or of each other are dropped; each "
        "remaining proposal is reviewed before it is written into FILE with `probes:` and `origin:`.",
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--rule", action="append", default=[], metavar="ID",
                        help="generate for this rule id only (repeatable; default: every rule)")
    parser.add_argument("--uncovered", action="store_true",
                        help="generate for exactly the rules no case probes yet")
    parser.add_argument("--count", type=at_least_one, metavar="N",
                        help="how many proposals to ask for (default: two per rule)")
    parser.add_argument("--kind", action="append", default=[], metavar="KIND",
                        help="probe kind (repeatable): typical, boundary, ambiguous, adversarial, off-topic, "
                        "other-language (default: all, in that order)")
    parser.add_argument("--model", metavar="TARGET",
                        help="a model target id of FILE or provider:model "
                        "(default: local, the bundled model)")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="base seed: probe i is sent with seed N+i (default: random; recorded in origin)")
    parser.add_argument("--no-cache", action="store_true", help="ask the model again even for a seen request")
    parser.add_argument("--yes", "-y", action="store_true", help="accept every proposal without asking")
    parser.add_argument("--json", action="store_true",
                        help="print proposals, dropped duplicates, coverage and what was written as JSON")
    add_limit_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.core.casegen.grid import unprobed
    from app.core.casegen.prompt import load_template
    from app.core.casegen.proposals import GenerationResult
    from app.engine.casegen import GenerationRequest

    path = Path(args.file)
    proto = load_or_report(path)
    if proto is None:
        return EXIT_USAGE
    before = unprobed(proto)
    rules = list(args.rule)
    if args.uncovered:
        if not before:
            print("every rule already has a case that probes it; nothing to fill", file=sys.stderr)
            if args.json:
                _print_json(proto, path, None, GenerationResult(), added=[], before=before)
            return 0
        rules = list(dict.fromkeys([*rules, *before]))
    request = GenerationRequest(rules=rules, count=args.count, model=args.model, seed=args.seed,
                                kinds=args.kind, template=load_template(), use_cache=not args.no_cache)
    result = GenerationResult()
    try:
        problem = asyncio.run(_generate(proto, request, result, args))
    except KeyboardInterrupt:
        problem = None
        result.cancelled = True
        kept = len(result.proposals)
        print(f"\ninterrupted: keeping the {kept} proposal(s) received so far", file=sys.stderr)
        if not result.proposals and not args.json:
            return 130
    if problem is not None:  # the request could not start
        print(f"protostudio generate: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return _review(proto, path, result, before, seed=result.seed, args=args)


async def _generate(proto: Any, request: Any, result: Any, args: argparse.Namespace) -> str | None:
    """Fill `result` (kept when interrupted); returns why the request cannot start, else None."""
    from app.engine.casegen import CaseGenerator, GenerationError
    from app.engine.engine import Engine
    from app.providers.hub import ProviderHub

    hub = ProviderHub()
    engine = Engine(hub, per_provider=args.per_provider, provider_limits=provider_limits(args, hub.registry),
                    start_together=False)
    generator = CaseGenerator(engine)
    try:
        _probes, target, _seed = generator.plan(proto, request)
    except GenerationError as exc:
        await hub.aclose()
        return str(exc)
    progress = _Progress(sys.stderr)
    if target.provider == "local" and not target.base_url:
        print("using the bundled 135M model: expect weak cases; --model a hosted target writes better ones",
              file=sys.stderr)
    try:
        await generator.generate(proto, request, progress.on_event, result)
    finally:
        progress.close()
        await hub.aclose()
    return None


def _review(proto: Any, path: Path, result: Any, before: list[str], *, seed: int | None,
            args: argparse.Namespace) -> int:
    from app.core.casegen.grid import unprobed
    from app.core.casegen.proposals import accept

    for line in result.failures:
        print(f"no proposal: {line}", file=sys.stderr)
    if result.duplicates:
        print(f"dropped {len(result.duplicates)} of {result.received} proposal(s) as near-duplicates "
              f"({result.duplicate_share:.0%})", file=sys.stderr)
    proposals = result.proposals
    if not proposals:
        if args.json:
            _print_json(proto, path, seed, result, added=[], before=before)
        print("no new proposals; the file is unchanged", file=sys.stderr)
        return EXIT_CALLS_FAILED if result.failures and not result.received else 0
    if args.yes:
        accepted = list(proposals)
        if not args.json:
            _show_all(proposals, sys.stdout)
    elif args.json or not sys.stdin.isatty():
        if args.json:
            _print_json(proto, path, seed, result, added=[], before=before)
        else:
            _show_all(proposals, sys.stdout)
        print(f"{len(proposals)} proposal(s); nothing written (no terminal to ask on: run "
              f"`protostudio generate {path} --seed {seed} --yes` to accept these)", file=sys.stderr)
        return 0
    else:
        accepted = _ask(proposals)
    added = accept(proto, accepted) if accepted else []
    if added and not save_or_report("generate", proto, path):
        return EXIT_USAGE
    if args.json:
        _print_json(proto, path, seed, result, added=added, before=before)
    if added:
        print(f"added {len(added)} of {len(proposals)} proposed case(s) to {path}", file=sys.stderr)
    else:
        print("nothing accepted; the file is unchanged", file=sys.stderr)
    left = unprobed(proto)
    if left:
        print(f"{len(left)} rule(s) have no case: {', '.join(left)} "
              f"(`protostudio generate {path} --uncovered` fills them)", file=sys.stderr)
    return 0


def _print_json(proto: Any, path: Path, seed: int | None, result: Any, *, added: list[Any],
                before: list[str]) -> None:
    """Print the `--json` document (shape version JSON_SHAPE_VERSION; see docs/prototype-format.md)."""
    from app.core.casegen.grid import rules_of, unprobed

    data = {
        "version": JSON_SHAPE_VERSION,
        "file": str(path),
        "seed": seed,
        "requested": result.requested,
        "cancelled": result.cancelled,
        "proposals": [p.to_json() for p in result.proposals],
        "dropped_duplicates": [p.to_json() for p in result.duplicates],
        "duplicate_share": round(result.duplicate_share, 3),
        "failures": list(result.failures),
        "coverage": {
            "rules": [ref.id for ref in rules_of(proto)],
            "unprobed_before": before,
            "unprobed_after": unprobed(proto),
        },
        "written": [case.id for case in added],
    }
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _describe(number: int, total: int, proposal: Any) -> str:
    from app.core.casegen.checks import check_words

    message = proposal.user_message.replace("\n", "\n        ")
    lines = [f"[{number}/{total}] probes {proposal.rule_id} · {proposal.kind} · {proposal.persona}",
             f"        {message}",
             f"        ({proposal.description or 'no description'})"]
    lines.extend(f"        check: {check_words(check)}" for check in proposal.checks)
    lines.extend(f"        dropped check: {why}" for why in proposal.dropped_checks)
    return "\n".join(lines)


def _show_all(proposals: list[Any], out: TextIO) -> None:
    for number, proposal in enumerate(proposals, 1):
        print(_describe(number, len(proposals), proposal), file=out)


def _ask(proposals: list[Any]) -> list[Any]:
    accepted: list[Any] = []
    for number, proposal in enumerate(proposals, 1):
        print(_describe(number, len(proposals), proposal))
        while True:
            try:
                answer = input("  add it? [y]es / [w]ithout its checks / [n]o / [e]dit / [a]ll remaining / "
                               "[q]uit: ").strip().lower()
            except EOFError:
                answer = "q"
            if answer in ("y", "yes"):
                accepted.append(proposal)
                break
            if answer in ("w", "without"):
                accepted.append(proposal.with_checks([False] * len(proposal.checks)))
                break
            if answer in ("n", "no", ""):
                break
            if answer in ("e", "edit"):
                try:
                    text = input("  the user's message (empty keeps it): ").strip()
                except EOFError:
                    text = ""
                accepted.append(proposal.edited(text) if text else proposal)
                break
            if answer in ("a", "all"):
                return accepted + proposals[number - 1 :]
            if answer in ("q", "quit"):
                return accepted
    return accepted


class _Progress:
    """`generating 3/8` on stderr: redrawn on a terminal, first and last only on a pipe."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self._open = False

    def on_event(self, event: Any) -> None:
        from app.engine.casegen import GenerationProgress

        if not isinstance(event, GenerationProgress):
            return
        text = f"generating {event.done}/{event.total}"
        if self.tty:
            self.out.write("\r\033[K" + text)
            self._open = True
        elif event.done == event.total:
            self.out.write(text + "\n")
        self.out.flush()

    def close(self) -> None:
        if self._open:
            self.out.write("\n")
            self.out.flush()
            self._open = False
