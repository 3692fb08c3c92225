"""Issue 16 figures from one run: SIGKILL losses, a faulty sibling's effect on healthy cells, big files.

Run: python bench/bench_hardening.py [--kill-trials 200] [--cases 8] [--runs 10000]
Everything talks to the loopback fake server (tests/fakeserver.py); nothing leaves the machine.

1. SIGKILL: `tests/killharness.py` kills `protostudio run` at random moments; prints finished cells
   acknowledged on the progress line and how many of them the next open did not find (goal 0),
   then the same with the journal deleted (the control: it must lose some).
2. Fault isolation: two models on one endpoint; the healthy one's cells, alone and next to a
   sibling that gets a 429 and then hangs. Prints the mean finish time of the healthy cells in
   both cases and the ratio (goal: within 10%).
3. Big files: a prototype with N rated runs: parse (open) and save CPU seconds and the peak RSS of
   a child process that only opens it (goal: under 1 s each, RSS under 400 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "engine"))

from fakeserver import FakeOpenAI, Recorded, Reply  # noqa: E402

HANG_TIMEOUT = 20.0


def sigkill_figures(server: FakeOpenAI, trials: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for label, extra in (("journal", []), ("control (journal deleted)", ["--lose-journal"])):
        with tempfile.TemporaryDirectory() as work:
            count = trials if not extra else max(10, trials // 10)
            done = subprocess.run(
                [sys.executable, str(ROOT / "tests" / "killharness.py"), "--server", server.base_url,
                 "--workdir", work, "--trials", str(count), "--cases", "20", "--min-delay", "0.1",
                 "--max-delay", "1.0", "--seed", "7", *extra],
                env=env, capture_output=True, text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {label}: {result['killed']}/{result['trials']} trials killed mid-run, "
              f"{result['acknowledged']} finished cells acknowledged, {result['lost']} lost "
              f"({result['trials_with_loss']} trials lost some, worst {result['max_loss']}), "
              f"{result['seconds']} s")


def healthy_finish_times(server: FakeOpenAI, cases: int, *, faulty: bool) -> list[float]:
    from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn
    from app.engine.engine import Engine
    from app.engine.events import CellFinished, EngineEvent
    from app.engine.plan import RunPlan
    from app.providers.hub import ProviderHub

    proto = Prototype(
        name="bench", profiles=[Profile(id="p", system_prompt="Answer.")],
        models=[ModelTarget(id="good", provider="benchfake", model="good-model"),
                ModelTarget(id="bad", provider="benchfake", model="bad-model")],
        cases=[Case(id=f"c{i}", turns=[Turn(content=f"q{i}")]) for i in range(cases)])
    lock = threading.Lock()
    bad_calls = 0

    def responder(rec: Recorded) -> Reply:
        nonlocal bad_calls
        if (rec.body or {}).get("model") != "bad-model" or not faulty:
            return Reply(text="a healthy answer of a few words", ttft=0.2, tokens_per_s=100)
        with lock:
            bad_calls += 1
            first = bad_calls == 1
        return Reply(status=429, retry_after=0.5) if first else Reply(fault="hang")

    server.responder = responder
    finished: list[float] = []

    async def main() -> None:
        hub = ProviderHub(timeout=HANG_TIMEOUT)
        engine = Engine(hub, concurrency=8, per_provider=2)
        start = time.perf_counter()

        def on_event(event: EngineEvent) -> None:
            if isinstance(event, CellFinished) and event.cell.model == "good":
                finished.append(time.perf_counter() - start)

        try:
            await engine.run(proto, RunPlan(use_cache=False), on_event)
        finally:
            await hub.aclose()

    asyncio.run(main())
    return finished


def fault_isolation_figures(server: FakeOpenAI, cases: int) -> None:
    from app.providers.registry import Registry

    Registry().add("benchfake", server.base_url, needs_key=False)
    calm = healthy_finish_times(server, cases, faulty=False)
    faulty = healthy_finish_times(server, cases, faulty=True)
    ratio = statistics.mean(faulty) / statistics.mean(calm)
    print(f"  {cases} cases, per_provider=2, hung request timeout {HANG_TIMEOUT:.0f} s, stall_after 10 s")
    print(f"  healthy cells alone:               mean finish {statistics.mean(calm):.2f} s, "
          f"last {max(calm):.2f} s")
    print(f"  healthy cells, 429 + hung sibling: mean finish {statistics.mean(faulty):.2f} s, "
          f"last {max(faulty):.2f} s")
    print(f"  ratio {ratio:.2f} (goal <= 1.10)")


def big_file_figures(runs: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_prototype_io import with_runs

    from app.core import document
    from app.core.document import parse_prototype, save_prototype

    proto = with_runs(runs)  # every run already carries a rating
    folder = Path(tempfile.mkdtemp(prefix="bench-hardening-"))
    path = folder / "big.yaml"
    start = time.process_time()
    save_prototype(proto, path)
    save_s = time.process_time() - start
    text = path.read_text(encoding="utf-8")
    start = time.process_time()
    parse_prototype(text)
    parse_s = time.process_time() - start
    fast = document._parse_canonical
    document._parse_canonical = lambda _text: None  # type: ignore[assignment]
    start = time.process_time()
    parse_prototype(text)
    slow_s = time.process_time() - start
    document._parse_canonical = fast
    rss_mb = _open_rss_mb(path, slow=False)
    slow_rss_mb = _open_rss_mb(path, slow=True)
    print(f"  {runs} rated runs, {len(text.encode()) / 1e6:.1f} MB: "
          f"open (parse+validate) {parse_s:.2f} s CPU (positioned loader alone: {slow_s:.2f} s, "
          f"ratio {slow_s / parse_s:.1f}), save {save_s:.2f} s CPU, peak RSS of a process that opens it "
          f"{rss_mb:.0f} MB (positioned loader alone: {slow_rss_mb:.0f} MB) (goals: < 1 s each, < 400 MB)")
    path.unlink()
    folder.rmdir()


def _open_rss_mb(path: Path, *, slow: bool) -> float:
    """Peak RSS of a fresh process that only opens `path` (with or without the fast canonical reader)."""
    patch = "from app.core import document; document._parse_canonical = lambda _t: None; " if slow else ""
    # VmHWM, not ru_maxrss: ru_maxrss of a child carries over the RSS of the (large) parent that forked it.
    code = ("import re, sys; " + patch + "from app.core.document import load_prototype; "
            "load_prototype(sys.argv[1]); "
            "print(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))")
    child = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True)
    return int(child.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-trials", type=int, default=200)
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--big-files-only", action="store_true", help="only section 3 (open/save figures)")
    args = parser.parse_args()
    os.environ.setdefault("PROTOSTUDIO_HOME", tempfile.mkdtemp(prefix="bench-home-"))
    load = os.getloadavg()
    print(f"bench_hardening {time.strftime('%Y-%m-%d %H:%M')} "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} cores")
    if args.big_files_only:
        print("3. Big files")
        big_file_figures(args.runs)
        return
    with FakeOpenAI() as server:
        server.default = Reply(text="one two three four five six", ttft=0.02, tokens_per_s=200)
        print("1. SIGKILL during `protostudio run`")
        sigkill_figures(server, args.kill_trials)
        print("2. Fault isolation (one model 429 + hang, the other healthy, same endpoint)")
        fault_isolation_figures(server, args.cases)
    print("3. Big files")
    big_file_figures(args.runs)


if __name__ == "__main__":
    main()
