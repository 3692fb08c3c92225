"""How long loading and saving a prototype takes as its run history grows.

Run: python bench/bench_prototype_io.py
Prints medians of CPU time (process_time, so a busy shared machine skews it less) over a few
repeats for dumps (serialise), parse (YAML + validation) and save
(serialise + atomic write with fsync), for files of 100, 500 and 2000 runs, next to PyYAML's own
emitter writing the same text (the reference the fast writer must match), plus the time to refuse
a "billion laughs" alias bomb.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.document import (
    dumps_prototype,
    parse_prototype,
    save_prototype,
    to_data,
)
from app.core.errors import PrototypeError
from app.core.prototype import Message, Prototype, Rating, Run, Usage
from app.core.yamlio import dump_with_pyyaml

EXAMPLE = Path(__file__).resolve().parent.parent / "prototypes" / "cat-persona.yaml"


def with_runs(count: int) -> Prototype:
    proto = parse_prototype(EXAMPLE.read_text(encoding="utf-8"))
    output = "*stretches* Sure. 18% of 64 is 11.52, so a fair tip is about $11.50. 🐱\n" * 8
    proto.runs = [
        Run(id=f"run-{i:05d}", created="2026-11-22T06:00:00Z", profile="light-touch", model="local",
            case="tip-mid-roleplay", provider="local", model_name="smollm2-135m-instruct",
            messages=[Message(role="system", content=proto.profiles[0].system_prompt),
                      Message(role="user", content="How much is the tip?")],
            output=output, finish_reason="stop", usage=Usage(prompt_tokens=120, completion_tokens=96),
            ttft_ms=85.5, latency_ms=1432.25, cost_usd=0.0,
            ratings=[Rating(rater="ana", thumb="up", note="clear")])
        for i in range(count)
    ]
    return proto


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-io-"))
    print(f"{'runs':>6} {'size MB':>8} {'dumps s':>8} {'pyyaml s':>9} {'speedup':>8} {'parse s':>8} "
          f"{'save s':>8} {'parse MB/s':>10}")
    for count in (100, 500, 2000):
        proto = with_runs(count)
        text = dumps_prototype(proto)
        size = len(text.encode("utf-8")) / 1e6
        repeats = 5 if count < 2000 else 3
        dumps = median_seconds(lambda p=proto: dumps_prototype(p), repeats)
        reference = median_seconds(lambda p=proto: dump_with_pyyaml(to_data(p)), 1)
        parse = median_seconds(lambda t=text: parse_prototype(t), repeats)
        save = median_seconds(lambda p=proto: save_prototype(p, folder / "bench.yaml"), repeats)
        print(f"{count:>6} {size:>8.2f} {dumps:>8.3f} {reference:>9.3f} {reference / dumps:>7.1f}x "
              f"{parse:>8.3f} {save:>8.3f} {size / parse:>10.1f}")
    bomb = ["name: bomb", 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    bomb += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]

    def refuse() -> None:
        try:
            parse_prototype("\n".join(bomb) + "\n")
        except PrototypeError:
            return
        raise AssertionError("bomb loaded")

    print(f"billion-laughs (9**9 if expanded) refused in {median_seconds(refuse, 5) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
