"""Issue 16 item 9 from one run: big prototype files open and save fast, and nothing under the size
limit takes more than 10 s or 1 GB to validate.

Run: PYTHONPATH=$PWD python bench/bench_big_files.py [--runs 10000] [--repeats 5] [--real-mb 62.6]
     [--only-runs]

1. A prototype with N rated runs, twice: every run alike (`bench_prototype_io.with_runs`, the
   figure earlier rounds used) and every run different (ids, times, answers of 1-10 lines, usage,
   timings, notes: nothing repeats for caches to catch). Open (`parse_prototype`) and save
   (`save_prototype`: serialise + atomic write) as medians of CPU seconds over R repeats in this
   process (warm caches), and the CPU seconds and peak RSS (VmHWM) of a fresh process that only opens
   the file (cold caches: what a person opening it sees). Goals: < 1 s each, < 400 MB.
2. Files at the 64 MiB size limit, each opened by a fresh process (`load_prototype`), which reports
   its CPU and wall seconds (after its imports, since 2026-11-30 03:20; before, they were included,
   ~0.4 s), its peak RSS and the first problem: a 63 MiB `tags:` list of 7 million items, a 9.3 MB
   file of 200,000 cases, both also with a comment on top (so the positioned loader reads them, not
   the canonical reader), 13,000 varied runs with two comments (a hand-edited 10+ MB file: the
   positioned loader), and ~62.6 MB of real-looking runs. Goal: each < 10 s and < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_prototype_io import EXAMPLE, with_runs  # noqa: E402

from app.core.document import dumps_prototype, parse_prototype, save_prototype  # noqa: E402
from app.core.prototype import Message, Prototype, Rating, Run, Usage  # noqa: E402

_SENTENCE = "the cat sat on a warm mat and purred while 18% of 64 is 11.52 so tip about $11.50 🐱 sunny"
WORDS = [*_SENTENCE.split(), "window", "nap:", "(really)", "yes,", "no...", '"quoted"', "it's"]


def varied_runs(count: int, seed: int = 1) -> Prototype:
    """The example prototype plus `count` runs in which no two answers, ids, times or timings repeat."""
    proto = parse_prototype(EXAMPLE.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    runs = []
    for i in range(count):
        profile = proto.profiles[i % len(proto.profiles)]
        lines = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(rng.randint(1, 10))]
        runs.append(Run(
            id=f"run-{i:06d}-{rng.getrandbits(24):06x}",
            created=f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{i * 7 % 60:02d}Z",
            profile=profile.id, model="local", case=proto.cases[i % len(proto.cases)].id,
            provider="local", model_name="smollm2-135m-instruct",
            messages=[Message(role="system", content=profile.system_prompt),
                      Message(role="user", content=f"How much is the tip on ${i % 200}?")],
            output="\n".join(lines) + "\n", finish_reason="stop",
            usage=Usage(prompt_tokens=100 + i % 50, completion_tokens=rng.randint(5, 300)),
            ttft_ms=round(rng.uniform(20, 300), 1), latency_ms=round(rng.uniform(200, 5000), 2), cost_usd=0.0,
            ratings=[Rating(rater="ana", thumb=rng.choice(["up", "down"]),
                            note=" ".join(rng.choice(WORDS) for _ in range(4)))],
        ))
    proto.runs = runs
    return proto


def median_cpu(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


_CHILD = """
import json, re, resource, sys, time
from app.core.document import load_prototype
from app.core.errors import PrototypeError
wall, cpu = time.perf_counter(), time.process_time()
try:
    load_prototype(sys.argv[1]); outcome = "ok"
except PrototypeError as exc:
    first = exc.problems[0]
    outcome = f"line {first.line}: {first.message[:45]}"
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
hwm = int(re.search(r"VmHWM:\\s*(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
print(json.dumps({"cpu": cpu, "wall": wall, "rss": hwm, "outcome": outcome}))
"""


def open_in_child(path: Path) -> dict[str, object]:
    """CPU and wall seconds of `load_prototype` in a fresh process (imports done, nothing cached: a
    person opening the file), its peak RSS (VmHWM, MB), the outcome.

    VmHWM, not ru_maxrss: ru_maxrss of a child carries over the RSS of the (large) parent."""
    child = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    result: dict[str, object] = json.loads(child.stdout)
    return result


def runs_figures(label: str, proto: Prototype, folder: Path, repeats: int) -> None:
    path = folder / f"{label}.yaml"
    save_prototype(proto, path)
    text = path.read_text(encoding="utf-8")
    assert dumps_prototype(parse_prototype(text)) == text, "load -> save must give the same bytes"
    open_s = median_cpu(lambda: parse_prototype(text), repeats)
    save_s = median_cpu(lambda: save_prototype(proto, path), repeats)
    child = open_in_child(path)
    size = len(text.encode()) / 1e6
    print(f"  {len(proto.runs)} rated runs, {label:<7} {size:5.1f} MB: open {open_s:.2f} s CPU, "
          f"save {save_s:.2f} s CPU, first open in a fresh process {child['cpu']:.2f} s CPU, "
          f"its peak RSS {child['rss']:.0f} MB (goals: < 1 s, < 1 s, < 400 MB)")
    path.unlink()


def limit_figures(folder: Path, real_mb: float) -> None:
    files: list[tuple[str, Path]] = []
    tags = folder / "tags.yaml"
    with tags.open("w", encoding="utf-8") as out:
        out.write("protostudio: 3\nname: tags\ntags:\n")
        for start in range(0, 7_000_000, 500_000):  # 9.4 bytes an item on average, as in the file
            out.write("".join(f"  - t{i % 1000:04d}\n" if i % 5 < 2 else f"  - t{i % 1000:03d}\n"
                              for i in range(start, start + 500_000)))
    files.append(("`tags:` list of 7 million items (canonical)", tags))
    cases = folder / "cases.yaml"
    body = "".join(f"  - id: case-{i:06d}\n    turns:\n      - content: q{i}\n" for i in range(200_000))
    cases.write_text("protostudio: 3\nname: cases\ncases:\n" + body, encoding="utf-8")
    files.append(("200,000 cases (canonical)", cases))
    for name, path in list(files):
        commented = folder / f"commented-{path.name}"
        with commented.open("w", encoding="utf-8") as out, path.open(encoding="utf-8") as source:
            out.write("# edited by hand\n")
            while chunk := source.read(1 << 24):
                out.write(chunk)
        files.append((name.replace("(canonical)", "(commented: slow path)"), commented))
    edited = folder / "edited.yaml"
    text = dumps_prototype(varied_runs(13_000))
    head, runs = text.split("\nruns:\n", 1)
    edited.write_text("# edited by hand: comments make it non-canonical\n" + head
                      + "\nruns:  # every answer\n"
                      + runs, encoding="utf-8")
    files.append(("13,000 runs, hand-edited (comments: slow path)", edited))
    real = folder / "real.yaml"
    proto = varied_runs(1_000)
    per_run = len(dumps_prototype(proto).encode()) / 1_000
    save_prototype(varied_runs(int(real_mb * 1e6 / per_run)), real)
    files.append((f"{len(parse_prototype(real.read_text(encoding='utf-8')).runs)} real-looking runs", real))
    for name, path in files:
        child = open_in_child(path)
        print(f"  {name:<45} {path.stat().st_size / 2**20:5.1f} MiB: {child['wall']:5.2f} s wall, "
              f"{child['cpu']:5.2f} s CPU, peak RSS {child['rss']:4.0f} MB -> {child['outcome']}")
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--real-mb", type=float, default=62.6)
    parser.add_argument("--only-runs", action="store_true", help="part 1 only (open and save of N runs)")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"bench_big_files {time.strftime('%Y-%m-%d %H:%M')} load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    folder = Path(tempfile.mkdtemp(prefix="bench-big-"))
    print("1. Open and save (medians of CPU seconds in this process)")
    runs_figures("alike", with_runs(args.runs), folder, args.repeats)
    runs_figures("varied", varied_runs(args.runs), folder, args.repeats)
    if not args.only_runs:
        print("2. Validate files near the 64 MiB limit (a fresh process each; goal < 10 s, < 1 GB)")
        limit_figures(folder, args.real_mb)
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    folder.rmdir()


if __name__ == "__main__":
    main()
