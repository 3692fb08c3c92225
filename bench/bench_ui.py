"""UI responsiveness while 8 cells stream: event-loop stall measured by timer-tick lateness.

Runs the real main window (offscreen unless a display is set) against the scriptable fake server:
8 cells (8 profiles x 1 model x 1 case), each streaming at 200 tokens/s for 20 s. A 10 ms QTimer
records when it actually fires; lateness = actual interval - 10 ms. Prints p50, p99 and max
lateness (goal: p99 < 50 ms), plus how many tokens arrived and how often cells repainted.

    QT_QPA_PLATFORM=offscreen python bench/bench_ui.py [--seconds 20] [--cells 8] [--rate 200]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PROTOSTUDIO_HOME", tempfile.mkdtemp(prefix="bench-ui-"))

from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.document import save_prototype  # noqa: E402
from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _pending(pane: object) -> bool:
    """A finished answer not rendered yet (False on a build that renders at once)."""
    return bool(getattr(pane, "pending", False))


def _renders(pane: object) -> int:
    """Finished answers the pane rendered lazily; a build that renders at once counts each shown one."""
    renders = getattr(pane, "renders", None)
    return int(renders) if renders is not None else int(bool(getattr(pane, "thread", None)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--cells", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200.0, help="tokens per second per cell")
    parser.add_argument(
        "--switch-ms", type=float, default=None, help="override the GIL switch interval the app sets (ms)"
    )
    parser.add_argument("--profile", default=None, help="write a cProfile of the GUI thread here")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.ui.main import tune_interpreter

    tune_interpreter()
    if args.switch_ms is not None:
        sys.setswitchinterval(args.switch_ms / 1000)
    from app.ui.cell_widget import CellWidget
    from app.ui.main_window import MainWindow
    from app.ui.services import Services

    repaints = {"count": 0}
    original_append = CellWidget.append_text

    def counting_append(self: CellWidget, text: str) -> None:
        repaints["count"] += 1
        original_append(self, text)

    CellWidget.append_text = counting_append  # type: ignore[method-assign]

    tokens = int(args.seconds * args.rate)
    # the server runs in its own process, as a real provider would: it must not share our GIL
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "fakeserver.py"),
            "--port",
            str(port),
            "--tokens-per-s",
            str(args.rate),
            "--text",
            "word " * tokens,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "fake OpenAI server on ..." once it listens
        base_url = f"http://127.0.0.1:{port}/v1"
        proto = Prototype(
            name="bench",
            profiles=[Profile(id=f"p{n}", system_prompt=f"variant {n}") for n in range(args.cells)],
            models=[ModelTarget(id="fake", provider="vllm", model="fake-model", base_url=base_url)],
            cases=[Case(id="c", turns=[Turn(content="Go")])],
        )
        path = Path(os.environ["PROTOSTUDIO_HOME"]) / "bench.yaml"
        save_prototype(proto, path)
        window = MainWindow(services=Services(concurrency=args.cells, per_provider=args.cells))
        window.file_ops.open_sync(path)
        window.file_ops.ask_unsaved = lambda: "discard"
        # the fake server is on loopback, not vLLM's own host: answer the "send your key there?" question
        # (a modal box here would block the whole measurement; it did, and the bench measured nothing)
        window.ask_host = lambda *_args: True
        window.show()
        app.processEvents()

        lateness: list[float] = []
        when: list[float] = []
        clock = QElapsedTimer()
        last = {"t": 0}
        timer = QTimer()
        timer.setInterval(10)

        def tick() -> None:
            now = clock.nsecsElapsed()
            if last["t"]:
                lateness.append(max(0.0, (now - last["t"]) / 1e6 - 10.0))
                when.append(now / 1e9)
            last["t"] = now

        timer.timeout.connect(tick)
        clock.start()
        timer.start()
        started = time.perf_counter()
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        window.run_grid(True)
        while (window.controller.busy or window.starting or time.perf_counter() - started < 1) and (
            time.perf_counter() - started < args.seconds * 3 + 30
        ):
            app.processEvents()
            time.sleep(0.001)
        wall = time.perf_counter() - started
        run_ticks = len(lateness)
        # finished answers render lazily (only cells on screen): count them, then scroll to every
        # cell so a lazy scheme cannot pass by never rendering; those ticks are measured too
        panes = [cell.body for cell in window.grid.cells.values()]
        on_screen = [pane for pane in panes if not pane.visibleRegion().isEmpty()]
        ended = time.perf_counter()
        while any(_pending(pane) for pane in on_screen) and time.perf_counter() - ended < 5:
            app.processEvents()
            time.sleep(0.001)
        settle_ms = (time.perf_counter() - ended) * 1000
        unrendered_on_screen = sum(_pending(pane) for pane in on_screen)
        rendered_in_run = sum(_renders(pane) for pane in panes)
        for cell in window.grid.cells.values():
            window.grid.scroll_area.ensureWidgetVisible(cell)
            deadline = time.perf_counter() + 5
            while _pending(cell.body) and time.perf_counter() < deadline:
                app.processEvents()
                time.sleep(0.001)
        timer.stop()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        rendered = sum(_renders(pane) for pane in panes)
        received = sum(len(r.output.split()) for r in window.document.proto.runs)
        window.close()
        window.shutdown()
    finally:
        server.terminate()
        server.wait(10)

    print(f"GIL switch interval: {sys.getswitchinterval() * 1000:g} ms")
    print(f"cells: {args.cells} x {args.rate:g} tokens/s for {args.seconds:g} s (wall {wall:.1f} s)")
    print(f"tokens received: {received} of {tokens * args.cells}")
    per_cell = repaints["count"] / wall / args.cells
    print(f"cell repaints (appends): {repaints['count']} = {per_cell:.1f}/s per cell")
    print(
        f"finished renders: {rendered_in_run} by the end of the run ({len(on_screen)} cells on screen, "
        f"{unrendered_on_screen} of them still unrendered {settle_ms:.0f} ms after the run ended), "
        f"{rendered} of {args.cells} after scrolling to each"
    )
    print(f"timer ticks: {len(lateness)} ({run_ticks} during the run, {len(lateness) - run_ticks} after it)")
    for label, ticks in (
        ("run", lateness[:run_ticks]),
        ("rendering after the run, then scrolling to each cell", lateness[run_ticks:]),
        ("all ticks (excluding nothing)", lateness),
    ):
        if ticks:
            print(
                f"tick lateness ms, {label}: p50 {statistics.median(ticks):.1f}  "
                f"p99 {percentile(ticks, 0.99):.1f}  max {max(ticks):.1f}  (goal p99 < 50)"
            )
    worst = sorted(zip(lateness, when, strict=True), reverse=True)[:8]
    print("worst ticks (ms late @ s from start): " + ", ".join(f"{ms:.0f}@{at:.1f}" for ms, at in worst))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
