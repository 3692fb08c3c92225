"""Before/after on issue 14's suite: another checkout's code against this one, interleaved.

The machine is shared, so a before figure taken at another hour says little. This runs the two
trees alternately against the same scriptable server (the `bench_interop.py` suite: 200 cases x
2 variants, 0.13 s a call, 4 per provider): `protostudio run --no-cache --json` as a whole
process (wall and CPU), and the engine alone in a fresh process (wall and CPU of the 400 cells,
after one warm-up cell). CPU is the steadier figure under load.

    git archive main | tar -x -C /tmp/before      # the "before" tree, anywhere
    python bench/bench_ab.py /tmp/before --reps 2
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import fake_server, register  # noqa: E402
from bench_interop import ANSWER, RATE, TTFT, suite  # noqa: E402

ENGINE_ONLY = r"""
import asyncio, sys, time
from app.core.document import load_prototype
from app.engine.engine import Engine
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub

async def go():
    proto = load_prototype(sys.argv[1])
    hub = ProviderHub()
    engine = Engine(hub, concurrency=8, per_provider=4)
    await engine.run(proto, RunPlan(use_cache=False, cases=["c000"]), lambda e: None)
    wall, cpu = time.perf_counter(), time.process_time()
    await engine.run(proto, RunPlan(use_cache=False), lambda e: None)
    print(time.perf_counter() - wall, time.process_time() - cpu)
    await hub.aclose()

asyncio.run(go())
"""


def timed(cmd: list[str], root: Path) -> tuple[float, float, str]:
    """Wall, CPU (user + system) and stdout of a child process run with `root`'s code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True,
                          text=True, timeout=1800, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:4]} in {root} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", type=Path, help="the other tree (a checkout or a `git archive` copy)")
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    os.environ["PROTOSTUDIO_HOME"] = str(home)
    figures: dict[tuple[str, str], list[float]] = {}
    with fake_server(ttft=TTFT, tokens_per_s=RATE, text=ANSWER) as url:
        register("bench-a", url)
        for rep in range(args.reps):
            for name, root in (("before", args.before.resolve()), ("after", ROOT)):
                proto_path, _ = suite(home, 200, url)
                cmd = [sys.executable, "-m", "app.cli", "run", str(proto_path), "--no-cache", "--json"]
                wall, cpu, _ = timed(cmd, root)
                _, _, out = timed([sys.executable, "-c", ENGINE_ONLY, str(proto_path)], root)
                engine_wall, engine_cpu = map(float, out.split())
                for label, value in (("run wall", wall), ("run CPU", cpu), ("engine wall", engine_wall),
                                     ("engine CPU", engine_cpu)):
                    figures.setdefault((name, label), []).append(value)
                print(f"round {rep + 1} {name}: run {wall:.2f} s (CPU {cpu:.2f} s), "
                      f"engine {engine_wall:.2f} s (CPU {engine_cpu:.2f} s), load {os.getloadavg()[0]:.2f}",
                      flush=True)
    for label in ("run wall", "run CPU", "engine wall", "engine CPU"):
        old = statistics.median(figures[("before", label)])
        new = statistics.median(figures[("after", label)])
        print(f"{label:12s} before {old:6.2f} s  after {new:6.2f} s  after/before {new / old:.2f}")


if __name__ == "__main__":
    main()
