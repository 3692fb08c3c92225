"""Simulated conversations per minute with 4 columns on the bundled model.

Four profiles (the columns) x one bundled-model target x N cases, each case with a simulated user
(the bundled model too, JSON-schema turns) that may write up to `--turns` messages. Runs through
`Engine.run` exactly as `protostudio run` does (one scheduler, the local model's 4 slots), cache off.
Then the same conversations with a `script:` of the same length (no simulator calls), to show what
the simulator costs, and (`opening`) with no fixed turn, the simulated user writing the first
message too. Prints conversations/min, replies, simulator calls and tokens (counted apart from the
cells), how conversations ended (done, max_turns, faults: unreadable turns must be 0) and the load
average.

    python bench/bench_simulate.py [--cases N] [--turns N] [--max-tokens N]
                                   [--modes simulated,scripted,opening]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.prototype import (  # noqa: E402
    Case,
    ModelParams,
    ModelTarget,
    Profile,
    Prototype,
    SimulatedUser,
    Turn,
)
from app.engine.engine import Engine  # noqa: E402
from app.engine.events import ConversationEnded, EngineEvent, Progress  # noqa: E402
from app.engine.plan import RunPlan  # noqa: E402
from app.providers.hub import ProviderHub  # noqa: E402
from app.providers.local_model import LOCAL_MODEL_ID, LocalModel  # noqa: E402

QUESTIONS = [
    ("tip", "What is 18% of $64?", "A busy PM who wants the tip amount and nothing else", "get 18% of $64"),
    ("pack", "What should I pack for a weekend hike?", "A first-time hiker who worries about rain",
     "a short packing list that covers rain"),
    ("email", "Write a two-line email declining a meeting.", "A polite manager in a hurry",
     "a two-line email they can send as is"),
]
STYLES = ["Answer in one short sentence.", "Answer in three bullet points.",
          "You are a friendly assistant.", "Answer like a pirate, briefly."]


def prototype(cases: int, turns: int, max_tokens: int, *, scripted: bool, opening: bool = False) -> Prototype:
    built = []
    for index in range(cases):
        case_id, question, persona, goal = QUESTIONS[index % len(QUESTIONS)]
        script = [f"Thanks. One more detail about that, please ({n + 1})." for n in range(turns)]
        sim = SimulatedUser(persona=persona, goal=goal, max_turns=turns, seed=index,
                            script=script if scripted else [])
        fixed = [] if opening else [Turn(content=question)]
        built.append(Case(id=f"{case_id}-{index}", turns=fixed, simulated_user=sim))
    return Prototype(
        name="bench simulate",
        profiles=[Profile(id=f"p{n}", system_prompt=style) for n, style in enumerate(STYLES)],
        models=[ModelTarget(id="local", provider="local", model=LOCAL_MODEL_ID,
                            params=ModelParams(temperature=0.7, seed=1, max_tokens=max_tokens))],
        cases=built,
    )


async def measure(hub: ProviderHub, proto: Prototype) -> dict[str, object]:
    engine = Engine(hub)
    ended: list[ConversationEnded] = []
    last = Progress(0, 0, 0, None)

    def sink(event: EngineEvent) -> None:
        nonlocal last
        if isinstance(event, ConversationEnded):
            ended.append(event)
        elif isinstance(event, Progress):
            last = event

    started = time.monotonic()
    runs = await engine.run(proto, RunPlan(use_cache=False), sink)
    elapsed = time.monotonic() - started
    how = Counter(e.reason.split(":")[0].split(" (")[0] for e in ended)
    return {
        "conversations": len(ended),
        "replies": sum(r.status == "ok" for r in runs),
        "simulated_turns": sum(e.turns for e in ended),
        "seconds": elapsed,
        "per_minute": 60.0 * len(ended) / elapsed if elapsed else 0.0,
        "ended": dict(how),
        "faults": sum(e.failed for e in ended),
        "sim_calls": last.simulator_calls,
        "sim_tokens": last.simulator_tokens,
        "cell_tokens": last.tokens,
    }


async def main(cases: int, turns: int, max_tokens: int, modes: list[str]) -> None:
    local = LocalModel()
    hub = ProviderHub(local=local)
    rows: dict[str, dict[str, object]] = {}
    try:
        warm = prototype(1, 1, 8, scripted=True)  # start the model before timing anything
        await Engine(hub).run(warm, RunPlan(use_cache=False, profiles=["p0"]), lambda _e: None)
        load_before = os.getloadavg()[0]
        for mode in modes:
            built = prototype(cases, turns, max_tokens, scripted=mode == "scripted",
                              opening=mode == "opening")
            rows[mode] = await measure(hub, built)
        load_after = os.getloadavg()[0]
    finally:
        await hub.aclose()
        local.shutdown()
    print(f"date {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load {load_before:.1f} -> "
          f"{load_after:.1f}, 4 columns x {cases} cases, max_turns {turns}, replies max_tokens {max_tokens}")
    print(f"{'mode':<10} {'conv':>5} {'replies':>8} {'sim turns':>10} {'seconds':>8} {'conv/min':>9} "
          f"{'sim calls':>10} {'sim tok':>8} {'cell tok':>9}  ended")
    for name, row in rows.items():
        print(f"{name:<10} {row['conversations']:>5} {row['replies']:>8} {row['simulated_turns']:>10} "
              f"{row['seconds']:>8.1f} {row['per_minute']:>9.2f} {row['sim_calls']:>10} "
              f"{row['sim_tokens']:>8} "
              f"{row['cell_tokens']:>9}  {row['ended']} faults={row['faults']}")
    if "scripted" in rows and "simulated" in rows:
        simulated = max(float(str(rows["simulated"]["per_minute"])), 1e-9)
        ratio = float(str(rows["scripted"]["per_minute"])) / simulated
        print(f"scripted / simulated conversations per minute: {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2)
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--modes", default="simulated,scripted,opening",
                        help="comma-separated: simulated (a fixed first turn), scripted, opening (none)")
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.turns, args.max_tokens, args.modes.split(",")))
