"""The first Run right after start-up: the GUI thread's longest stall while it starts.

    QT_QPA_PLATFORM=offscreen python bench/bench_first_run.py [--reps 5] [--warm]

Each repetition is a fresh interpreter (the openai SDK not imported yet): open the window on a file
aimed at the fake server, press Run at once (no background warm-up: the worst case, as when Run is
pressed before the warm-up job ends; `--warm` waits for the warm-up first), then a 2 ms timer on the
GUI thread records the longest gap between its ticks until every cell has ended. Prints the median
and worst longest-stall over the repetitions and where the SDK was imported. Noisy on a shared
machine: print `uptime` with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r'''
import json, sys, threading, time
sys.path.insert(0, "tests")
where = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "openai" and not where:
            where.append("GUI thread" if threading.current_thread() is threading.main_thread() else "worker")
        return None

sys.meta_path.insert(0, Watch())
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from fakeserver import FakeOpenAI
from tests.ui.conftest import fake_prototype
from app.core.document import save_prototype
from app.ui.main import create_window

server = FakeOpenAI().start()
path, warm = sys.argv[1], sys.argv[2] == "warm"
save_prototype(fake_prototype(server.base_url, local=False), path)
window = create_window([path])
window.show()
for _ in range(20):
    app.processEvents()
if warm:
    window.services.warm_up()
gaps = []
last = [time.perf_counter()]
def tick():
    now = time.perf_counter()
    gaps.append(now - last[0])
    last[0] = now
timer = QTimer()
timer.setInterval(2)
timer.timeout.connect(tick)
timer.start()
started = time.perf_counter()
last[0] = started
window.run_grid(bypass_cache=True)
tick()  # the Run press itself counts as GUI-thread time
deadline = started + 120
while time.perf_counter() < deadline:
    app.processEvents()
    if window.starting == 0 and not window.controller.busy and len(window.document.proto.runs) == 4:
        break
    time.sleep(0.001)
total = time.perf_counter() - started
timer.stop()
window.file_ops.ask_unsaved = lambda: "discard"
window.close()
window.shutdown()
server.stop()
print(json.dumps({"stall_ms": max(gaps) * 1000, "total_s": total, "import": where[0] if where else "before"}))
'''


def once(warm: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PROTOSTUDIO_HOME=str(Path(tmp) / "home"), PYTHONPATH=os.environ.get(
            "PYTHONPATH", str(ROOT)))
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        argv = [sys.executable, "-c", PROBE, str(Path(tmp) / "p.yaml"), "warm" if warm else "cold"]
        out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True)
        result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warm", action="store_true")
    args = parser.parse_args()
    results = [once(args.warm) for _ in range(args.reps)]
    stalls = [float(r["stall_ms"]) for r in results]  # type: ignore[arg-type]
    totals = [float(r["total_s"]) for r in results]  # type: ignore[arg-type]
    print(f"first Run ({'after warm-up' if args.warm else 'no warm-up'}), {args.reps} fresh processes, "
          f"code from {os.environ.get('PYTHONPATH', ROOT)}")
    median, worst = statistics.median(stalls), max(stalls)
    print(f"  longest GUI-thread stall: median {median:.0f} ms, worst {worst:.0f} ms")
    print(f"  Run pressed -> 4 cells ended: median {statistics.median(totals):.2f} s")
    print(f"  openai imported on: {sorted({str(r['import']) for r in results})}")
    print("  load:", subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())


if __name__ == "__main__":
    main()
