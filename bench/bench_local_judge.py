"""How often the bundled model, as an `llm-rubric` judge, agrees with the examples' expected verdicts.

Every behavior-spec rule in prototypes/*.yaml has good examples (expected: pass) and bad examples
(expected: fail). Each is graded by the bundled judge exactly as `protostudio eval` does it
(`judge_target`: temperature 0, JSON-schema verdicts). Prints the 2x2 table, accuracy, Cohen's
kappa against the expectation, and how many answers could not be read (must be 0).

    python bench/bench_local_judge.py [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.document import load_prototype  # noqa: E402
from app.core.evals.rubric import parse_verdict, rubric_messages  # noqa: E402
from app.core.prototype import ModelTarget  # noqa: E402
from app.engine.evals import judge_target  # noqa: E402
from app.providers.hub import ProviderHub  # noqa: E402
from app.providers.local_model import LOCAL_MODEL_ID, LocalModel  # noqa: E402


def examples(limit: int | None) -> list[tuple[str, str, bool]]:
    found: list[tuple[str, str, bool]] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "prototypes").glob("*.yaml")):
        for profile in load_prototype(path).profiles:
            for rule in profile.behavior_spec:
                for text, expected in [(g, True) for g in rule.good] + [(b, False) for b in rule.bad]:
                    if (rule.rule, text) not in seen:
                        seen.add((rule.rule, text))
                        found.append((rule.rule, text, expected))
    return found[:limit] if limit else found


async def main(limit: int | None) -> None:
    cases = examples(limit)
    local = LocalModel()
    hub = ProviderHub(local=local)
    target = judge_target(ModelTarget(id="judge", provider="local", model=LOCAL_MODEL_ID))
    table = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    unreadable = 0
    started = time.monotonic()
    try:
        async def one(rule: str, text: str, expected: bool) -> None:
            nonlocal unreadable
            finished = await hub.complete(target, rubric_messages(rule, text), use_cache=False)
            try:
                verdict = parse_verdict(finished.text)
            except ValueError:
                unreadable += 1
                return
            table[(expected, verdict.passed)] += 1

        await asyncio.gather(*(one(*case) for case in cases))
    finally:
        await hub.aclose()
        local.shutdown()
    elapsed = time.monotonic() - started
    n = sum(table.values())
    agree = table[(True, True)] + table[(False, False)]
    p_o = agree / n if n else 0.0
    expected_pass = table[(True, True)] + table[(True, False)]
    judged_pass = table[(True, True)] + table[(False, True)]
    p_yes = expected_pass * judged_pass / n**2 if n else 0.0
    p_no = (n - expected_pass) * (n - judged_pass) / n**2 if n else 0.0
    kappa = (p_o - (p_yes + p_no)) / (1 - (p_yes + p_no)) if n and p_yes + p_no < 1 else 0.0
    print(f"date {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.1f}, "
          f"{len(cases)} examples from prototypes/*.yaml in {elapsed:.0f} s")
    print("                  judged pass  judged fail")
    print(f"expected pass     {table[(True, True)]:>11}  {table[(True, False)]:>11}")
    print(f"expected fail     {table[(False, True)]:>11}  {table[(False, False)]:>11}")
    print(f"agreement {p_o:.0%} ({agree}/{n}), Cohen's kappa {kappa:.2f}, unreadable verdicts {unreadable}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None)
    asyncio.run(main(parser.parse_args().limit))
