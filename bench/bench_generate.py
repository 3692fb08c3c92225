"""Generated cases on the bundled model: proposals per minute, share dropped as near-duplicates.

Each example prototype's rules are probed through `CaseGenerator` exactly as `protostudio generate`
does it (the engine's scheduler, the bundled model's 4 slots, JSON-schema decoding), with the
response cache off so every probe is a real generation. Prints, per file and in total: probes,
proposals kept, near-duplicates dropped (share), replies that did not parse (must be 0 on the
bundled model), wall time, proposals per minute and seconds to the first proposal; then how many
proposed checks validated and how many were dropped (with the first reasons).

    python bench/bench_generate.py [--count N] [--seed S] [FILE ...]
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

from app.core.casegen.proposals import GenerationResult  # noqa: E402
from app.core.document import load_prototype  # noqa: E402
from app.engine.casegen import CaseGenerator, GenerationEvent, GenerationRequest, ProposalReceived  # noqa: E402
from app.engine.engine import Engine  # noqa: E402
from app.providers.hub import ProviderHub  # noqa: E402
from app.providers.local_model import LocalModel  # noqa: E402

DEFAULT_FILES = ("canvas-trigger.yaml", "social-pleasantry.yaml", "refusal-tone.yaml")


async def main(files: list[Path], count: int, seed: int) -> None:
    local = LocalModel()
    hub = ProviderHub(local=local)
    engine = Engine(hub, start_together=False)
    rows: list[tuple[str, GenerationResult, float, float | None]] = []
    try:
        # start the model first, so the figures measure generation and not the model's start-up
        (await local.acquire()).release()
        for path in files:
            proto = load_prototype(path)
            result = GenerationResult()
            started = time.monotonic()
            first: list[float] = []

            def on_event(event: GenerationEvent, started: float = started,
                         first: list[float] = first) -> None:
                if isinstance(event, ProposalReceived) and not first:
                    first.append(time.monotonic() - started)

            request = GenerationRequest(count=count, model="local", seed=seed, use_cache=False)
            await CaseGenerator(engine).generate(proto, request, on_event, result)
            rows.append((path.name, result, time.monotonic() - started, first[0] if first else None))
    finally:
        await hub.aclose()
        local.shutdown()
    print(f"date {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load "
          f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores, bundled model, "
          f"{count} probes per file, seed {seed}, cache off")
    print(f"{'file':<26}{'probes':>7}{'kept':>6}{'dupes':>7}{'share':>7}{'unparsed':>9}{'failed':>7}"
          f"{'wall s':>8}{'per min':>9}{'first s':>8}")
    total_kept = total_dupes = total_received = total_bad = 0
    total_time = 0.0
    for name, result, wall, first in rows:
        unparsed = sum("model call failed" not in line for line in result.failures)
        failed = len(result.failures) - unparsed
        per_min = result.received / wall * 60 if wall else 0.0
        print(f"{name:<26}{result.requested:>7}{len(result.proposals):>6}{len(result.duplicates):>7}"
              f"{result.duplicate_share:>7.0%}{unparsed:>9}{failed:>7}{wall:>8.1f}{per_min:>9.1f}"
              f"{first if first is not None else float('nan'):>8.1f}")
        total_kept += len(result.proposals)
        total_dupes += len(result.duplicates)
        total_received += result.received
        total_bad += len(result.failures)
        total_time += wall
    share = total_dupes / total_received if total_received else 0.0
    rate = total_received / total_time * 60 if total_time else 0.0
    print(f"total: {total_received} proposals in {total_time:.0f} s = {rate:.1f} "
          f"proposals/min; {total_dupes} dropped as near-duplicates ({share:.0%}); "
          f"{total_bad} probes without a usable reply; {total_kept} kept")
    received = [p for _, result, _, _ in rows for p in (*result.proposals, *result.duplicates)]
    valid = sum(len(p.checks) for p in received)
    dropped = [why for p in received for why in p.dropped_checks]
    print(f"proposed checks: {valid} valid, {len(dropped)} dropped as invalid "
          f"({sum(1 for p in received if p.checks)} of {len(received)} proposals carry at least one)")
    for why in dropped[:5]:
        print(f"  dropped: {why}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    chosen = args.files or [ROOT / "prototypes" / name for name in DEFAULT_FILES]
    asyncio.run(main(chosen, args.count, args.seed))
