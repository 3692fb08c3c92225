"""Where `protostudio eval SUITE --no-cache` spends its wall time outside the requests (issue 14).

Runs the CLI as a whole process on `bench_interop.py`'s suite (200 cases x 2 variants, 0.13 s a
call, against the scriptable server in its own process) with a bootstrap that stamps, on the
same clock as the parent's spawn and exit, when each phase ends: the interpreter is up, the
`eval` module is imported, the file is loaded and its assertions checked, `openai` is imported,
the first request is sent, the first and last cells end, grading ends, the save ends, the
process exits. It also prints the process's CPU time at each stamp. No code of the CLI changes:
the stamps are wrappers installed by an import hook in the child.

    python bench/bench_cli_phases.py                      # 4 and 8 per provider, 3 rounds
    python bench/bench_cli_phases.py --tree /tmp/before --tree .   # two checkouts, interleaved
    python bench/bench_cli_phases.py --reps 1 --per-provider 8

Medians over rounds. The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
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
from bench_interop import ANSWER, PER_CALL, RATE, TTFT, suite  # noqa: E402

BOOT = r"""
import atexit, importlib.abc, importlib.machinery, json, os, sys, time

MARKS = []


def mark(name):
    MARKS.append((name, time.time(), time.process_time()))


mark("interpreter up")


def wrap_after(module, attr, name, once=True):
    original = getattr(module, attr)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        if not once or not any(m[0] == name for m in MARKS):
            mark(name)
        return result

    setattr(module, attr, wrapper)


def patch_eval(module):
    mark("eval command imported")
    wrap_after(module, "load_recovering", "file loaded")
    wrap_after(module, "save_or_report", "saved")
    on_progress = module.Progress.on_progress

    def progress(self, event):
        if event.stage == "run" and event.done == 1:
            mark("first cell ended")
        if event.stage == "run" and event.done == event.total:
            mark("last cell ended")
        if event.stage == "grade" and event.done == event.total:
            mark("graded")
        return on_progress(self, event)

    module.Progress.on_progress = progress


def patch_validation(module):
    wrap_after(module, "check_prototype_assertions", "assertions checked")


def patch_sdk_request(module):
    wrap_after(module, "create_kwargs", "first request sent")


PATCH = {
    "app.commands.eval": patch_eval,
    "app.core.evals.validation": patch_validation,
    "app.providers.sdk_request": patch_sdk_request,
    "openai": lambda module: mark("openai imported"),
}


class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in PATCH:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def patched(module):
            exec_module(module)
            PATCH[name](module)

        spec.loader.exec_module = patched
        return spec


sys.meta_path.insert(0, Finder())


def report():
    mark("exit")
    with open(os.environ["PHASES_OUT"], "w") as out:
        json.dump(MARKS, out)


atexit.register(report)
sys.argv = ["protostudio", *sys.argv[1:]]
from app.cli import main
raise SystemExit(main())
"""


def one_run(tree: Path, proto: Path, per_provider: int, out: Path) -> dict[str, tuple[float, float]]:
    """Stamps (seconds since spawn, CPU seconds so far) of one `eval` process; 'process gone' last."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PHASES_OUT": str(out)}
    cmd = [sys.executable, "-c", BOOT, "eval", str(proto), "--no-cache", "--per-provider", str(per_provider)]
    start = time.time()
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=600, check=False)
    end = time.time()
    if done.returncode != 0:
        raise SystemExit(f"eval failed ({done.returncode}):\n{done.stderr[-2000:]}")
    marks = {name: (at - start, cpu) for name, at, cpu in json.loads(out.read_text())}
    marks["process gone"] = (end - start, marks["exit"][1])
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, action="append",
                        help="a checkout whose CLI runs (repeatable: they alternate; default: this one)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--per-provider", type=int, action="append", help="default: 4 and 8")
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    levels = args.per_provider or [4, 8]
    trees = [tree.resolve() for tree in args.tree or [ROOT]]
    home = Path(tempfile.mkdtemp(prefix="bench-phases-"))
    os.environ["PROTOSTUDIO_HOME"] = str(home)
    runs: dict[tuple[Path, int], list[dict[str, tuple[float, float]]]] = {
        (tree, level): [] for tree in trees for level in levels}
    loads = [os.getloadavg()[0]]
    with fake_server(ttft=TTFT, tokens_per_s=RATE, text=ANSWER) as url:
        register("bench-a", url)
        for _ in range(args.reps):
            for level in levels:
                for tree in trees:  # the trees back to back, so both see the same load
                    proto, _config = suite(home, args.cases, url)
                    runs[tree, level].append(one_run(tree, proto, level, home / "phases.json"))
                    loads.append(os.getloadavg()[0])
    n = args.cases * 2
    print(f"{n} calls at {PER_CALL:.2f} s; medians of {args.reps}; "
          f"load average {min(loads):.2f}-{max(loads):.2f} (2 shared cores)")
    for (tree, level), done in runs.items():
        limit = math.ceil(n / level) * PER_CALL
        print(f"\n{tree}, per provider {level} (physical limit of the requests {limit:.2f} s)")
        print(f"  {'stamp':24s} {'at (s)':>8s} {'step (s)':>9s} {'CPU at':>8s}")
        names = [name for name, _ in sorted(done[0].items(), key=lambda item: item[1][0])]
        previous = 0.0
        for name in names:
            at = statistics.median(r[name][0] for r in done)
            cpu = statistics.median(r[name][1] for r in done)
            print(f"  {name:24s} {at:8.2f} {at - previous:9.2f} {cpu:8.2f}")
            previous = at
        requests = statistics.median(r["last cell ended"][0] - r["first request sent"][0] for r in done)
        total = statistics.median(r["process gone"][0] for r in done)
        print(f"  requests (first sent -> last cell ended) {requests:.2f} s = {requests / limit:.2f} x "
              f"the limit; outside them {total - requests:.2f} s of {total:.2f} s")

if __name__ == "__main__":
    main()
