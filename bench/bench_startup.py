"""Start-up: `protostudio --help` against a bare `python -c pass`, and cold start to the first painted window.

    python bench/bench_startup.py [--reps 7]            (the window part needs a display, or
    QT_QPA_PLATFORM=offscreen python bench/bench_startup.py   for the offscreen platform)

Prints medians over the repetitions and the ratio; the goals are --help within 0.25 s or 10x a
bare interpreter, and the window within 1.5 s.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], env: dict[str, str] | None = None, until: str | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    assert proc.stdout is not None
    if until:
        for line in proc.stdout:
            if line.startswith(until):
                break
        elapsed = time.perf_counter() - started
        proc.wait(timeout=60)
        return elapsed
    proc.communicate()
    return time.perf_counter() - started


def main(reps: int) -> None:
    bare = statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(reps))
    helps = statistics.median(timed([sys.executable, "-m", "app.cli", "--help"]) for _ in range(reps))
    validate = statistics.median(timed([sys.executable, "-m", "app.cli", "validate",
                                        "prototypes/cat-persona.yaml"]) for _ in range(reps))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PROTOSTUDIO_STARTUP_PROBE": "1", "PROTOSTUDIO_HOME": home}
        window = statistics.median(timed([sys.executable, "-m", "app.cli"], env, until="first-paint")
                                   for _ in range(reps))
    print(f"date {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.1f}, "
          f"medians of {reps}, QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', '(display)')}")
    print(f"python -c pass            {bare:6.3f} s")
    print(f"protostudio --help        {helps:6.3f} s   {helps / bare:4.1f}x bare (goal <= 0.25 s or 10x)")
    print(f"protostudio validate FILE {validate:6.3f} s   {validate / bare:4.1f}x bare")
    print(f"window first painted      {window:6.3f} s   (goal <= 1.5 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    main(parser.parse_args().reps)
