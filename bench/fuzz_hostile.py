"""More seeds of `tests/test_hostile_inputs.py`: every prototype command and merge/import on
mutated copies of every example, truncated at every Nth byte and randomly flipped.

    PYTHONPATH=. python bench/fuzz_hostile.py [--seeds 5] [--every 7]

Prints how many files and command runs were tried, the problems found (exit code not 2 on a bad
file, a traceback, no FILE:LINE:COL, a changed folder), the peak RSS and the time. Exit 1 on any
problem.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import test_hostile_inputs as hostile  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--every", type=int, default=7, help="truncate at every Nth byte")
    args = parser.parse_args()
    started = time.monotonic()
    problems: list[str] = []
    files = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "work"
        folder.mkdir()
        path = folder / "proto.yaml"
        for example in sorted((ROOT / "prototypes").glob("*.yaml")):
            sample = example.read_bytes()
            cases = [(f"trunc@{i}", sample[:i]) for i in range(0, len(sample), args.every)]
            for seed in range(args.seeds):
                rng = random.Random(f"{example.name}-{seed}")
                for n in range(40):
                    data = bytearray(sample)
                    for _ in range(rng.randint(1, 6)):
                        data[rng.randrange(len(data))] = rng.randrange(256)
                    cases.append((f"flip{seed}.{n}", bytes(data)))
            for name, data in cases:
                path.write_bytes(data)
                files += 1
                found = hostile.attack(folder, path, commands=("validate", "status")) if name.startswith(
                    "trunc") else hostile.attack(folder, path)
                problems += [f"{example.name} {name}: {p}" for p in found]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in problems[:50]:
        print(line)
    print(f"files: {files}, problems: {len(problems)}, peak RSS: {peak:.0f} MB, "
          f"{time.monotonic() - started:.1f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
