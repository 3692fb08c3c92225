"""How long `protostudio merge` takes as the run history grows, next to a plain load + save.

Run: python bench/bench_merge.py
A base file with N runs; "ours" adds N/10 runs and rates every base run as ana, "theirs" adds
N/10 other runs and rates every base run as bo (so every run is merged field by field and every
rating list unioned). Prints medians of CPU time (process_time) over a few repeats for: parsing
the three inputs with positions (`Side.parse`), the merge itself (data merge + canonical text +
the full re-validation of the result), and, for scale, one load + save of the merged file.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.document import dumps_prototype, parse_prototype
from app.core.merge import Side, merge
from app.core.prototype import Message, Prototype, Rating, Run

EXAMPLE = Path(__file__).resolve().parent.parent / "prototypes" / "cat-persona.yaml"


def run(i: int, prefix: str) -> Run:
    return Run(id=f"{prefix}-{i:05d}", created="2026-11-22T06:00:00Z", profile="light-touch", model="local",
               case="tip-mid-roleplay", messages=[Message(role="user", content="How much is the tip?")],
               output="*stretches* Sure. 18% of 64 is 11.52, so a fair tip is about $11.50.\n" * 4)


def copies(count: int) -> tuple[str, str, str]:
    base = parse_prototype(EXAMPLE.read_text(encoding="utf-8"))
    base.runs = [run(i, "run") for i in range(count)]
    texts = [dumps_prototype(base)]
    for prefix, rater in (("ours", "ana"), ("theirs", "bo")):
        copy: Prototype = base.model_copy(deep=True)
        for r in copy.runs:
            r.ratings = [Rating(rater=rater, thumb="up", updated="2026-11-23T00:00:00Z")]
        copy.runs += [run(i, prefix) for i in range(count // 10)]
        texts.append(dumps_prototype(copy))
    return texts[0], texts[1], texts[2]


def median_time(fn: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    print(f"{'runs':>6} {'parse 3 sides s':>16} {'merge s':>9} {'load+save s':>12} {'merge/load+save':>16}")
    for count in (100, 500, 2000):
        base, ours, theirs = copies(count)
        sides = [Side.parse(t, n) for t, n in ((base, "base"), (ours, "ours"), (theirs, "theirs"))]
        result = merge(*sides)
        assert result.clean and result.proto is not None
        assert len(result.proto.runs) == count + 2 * (count // 10)
        texts, merged_text = (base, ours, theirs), result.text
        parse_s = median_time(lambda texts=texts: [Side.parse(t, "x") for t in texts])
        merge_s = median_time(lambda sides=sides: merge(*sides))
        io_s = median_time(lambda text=merged_text: dumps_prototype(parse_prototype(text)))
        print(f"{count:>6} {parse_s:>16.3f} {merge_s:>9.3f} {io_s:>12.3f} {merge_s / io_s:>16.1f}")


if __name__ == "__main__":
    main()
