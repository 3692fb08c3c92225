"""Speed against a bare SDK loop, the physical limit and promptfoo, from one run (issue 14's suite).

The suite: 200 cases x 2 variants (two prompts/profiles) on one provider, an echo with a
`contains` check, against the scriptable server (`tests/fakeserver.py`, own process) at 50 ms
TTFT and 40 tokens at 500 tok/s, so 0.13 s a call. At the same concurrency C (4, the default
per-provider limit, and 8, with `--per-provider 8`):

  ours            `protostudio run SUITE --no-cache` and `protostudio eval SUITE --no-cache` as
                  whole processes, and the in-process engine alone (at 4)
  bare SDK        the same 400 requests with nothing but `openai.AsyncOpenAI` streaming, C at a time
  physical limit  ceil(400 / C) x 0.13 s
  promptfoo       `promptfoo eval -j C --no-cache` on the same suite (skipped without node)

    python bench/bench_interop.py               # everything, 3 rounds
    python bench/bench_interop.py --no-peer     # skip promptfoo
    python bench/bench_interop.py --cases 50 --reps 1   # shorter, while developing

Each round runs every figure once, the two sides of each ratio back to back, so a ratio compares
measurements taken under the same load; figures are medians over rounds, ratios the median of the
per-round ratios. Goals: ours / bare SDK <= 1.05, ours / physical limit <= 1.2, promptfoo / ours
>= 1.5 at each concurrency. The machine is shared: the load average printed with the figures says
how much to trust them.
"""

from __future__ import annotations

import argparse
import asyncio
import math
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
sys.path.insert(0, str(ROOT / "tests" / "evals"))

from bench_engine import bare_sdk, fake_server, register  # noqa: E402

TTFT = 0.05
RATE = 500.0
ANSWER = " ".join(f"tok{i}" for i in range(40))
PER_CALL = TTFT + 40 / RATE
CONCURRENCY = 4
"""The engine's default per-provider limit; the figures are taken at it and at 8 (`--per-provider 8`)."""


def suite(folder: Path, cases: int, url: str) -> tuple[Path, Path]:
    """Our prototype and the same suite as a promptfoo config (written by our own exporter)."""
    from app.commands.export import engine_messages, registry_endpoints
    from app.core.document import save_prototype
    from app.core.exports.promptfoo import CONFIG_FILE, export_promptfoo
    from app.core.prototype import Assertion, Case, ModelTarget, Profile, Prototype, Turn

    proto = Prototype(
        name="interop bench",
        profiles=[Profile(id=f"p{i}", system_prompt=f"You are variant {i}.") for i in range(2)],
        models=[ModelTarget(id="model-a", provider="bench-a", model="model-a")],
        cases=[
            Case(
                id=f"c{i:03d}",
                vars={"n": str(i)},
                turns=[Turn(content="Tell me about item {{n}}.")],
                assert_=[Assertion(type="contains", value="tok39")],
            )
            for i in range(cases)
        ],
    )
    proto_path = folder / "suite.yaml"
    save_prototype(proto, proto_path)
    exported = export_promptfoo(proto, engine_messages, registry_endpoints(), base_urls={"model-a": url})
    config = folder / CONFIG_FILE
    config.write_text(exported.files[CONFIG_FILE], encoding="utf-8")
    return proto_path, config


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


async def engine_only(proto_path: Path) -> float:
    from app.core.document import load_prototype
    from app.engine.engine import Engine
    from app.engine.plan import RunPlan
    from app.providers.hub import ProviderHub

    proto = load_prototype(proto_path)
    hub = ProviderHub()
    try:
        engine = Engine(hub, concurrency=8, per_provider=CONCURRENCY)
        await engine.run(proto, RunPlan(use_cache=False, cases=["c000"]), lambda e: None)  # warm connections
        start = time.perf_counter()
        runs = await engine.run(proto, RunPlan(use_cache=False), lambda e: None)
        wall = time.perf_counter() - start
    finally:
        await hub.aclose()
    if any(r.status != "ok" for r in runs):
        raise SystemExit("engine run failed")
    return wall


def _cli(proto_path: Path, command: str, *flags: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", command, str(proto_path), "--no-cache", *flags]


def _peer(command: list[str], config: Path, jobs: int) -> list[str]:
    return [*command, "eval", "-c", str(config), "-j", str(jobs), "--no-cache", "--no-progress-bar",
            "--no-table", "--no-write", "--no-share"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3, help="rounds; each figure is the median (default 3)")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    n = args.cases * 2
    home = Path(tempfile.mkdtemp(prefix="bench-interop-"))
    os.environ["PROTOSTUDIO_HOME"] = str(home)
    env = {
        **os.environ,
        "PROMPTFOO_CONFIG_DIR": str(home / "promptfoo"),
        "PROMPTFOO_DISABLE_TELEMETRY": "1",
        "PROMPTFOO_DISABLE_UPDATE": "1",
        "PROMPTFOO_CACHE_ENABLED": "false",
        "NO_COLOR": "1",
        "OPENAI_API_KEY": "no-key",
    }
    command = None
    if not args.no_peer:
        from test_export_kit import promptfoo_command

        command = promptfoo_command()
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    loads: list[float] = []

    def note(name: str, wall: float, cpu: float | None = None) -> None:
        walls.setdefault(name, []).append(wall)
        if cpu is not None:
            cpus.setdefault(name, []).append(cpu)

    with fake_server(ttft=TTFT, tokens_per_s=RATE, text=ANSWER) as url:
        register("bench-a", url)
        for rep in range(args.reps):
            loads.append(os.getloadavg()[0])
            print(f"round {rep + 1}/{args.reps}, load average {loads[-1]:.2f}", file=sys.stderr)
            # Each comparison's two sides run back to back, so both see the same load.
            proto_path, config = suite(home, args.cases, url)
            note("bare SDK, 4 at a time", asyncio.run(bare_sdk(url, n, CONCURRENCY)))
            note("engine in-process, 4 per provider", asyncio.run(engine_only(proto_path)))
            note("run, 4 per provider", *timed(_cli(proto_path, "run", "--json"), env, ROOT))
            proto_path, config = suite(home, args.cases, url)  # fresh file: the run appends
            note("eval, 4 per provider", *timed(_cli(proto_path, "eval"), env, ROOT))
            if command is not None:
                note("promptfoo -j 4", *timed(_peer(command, config, CONCURRENCY), env, home))
                note("promptfoo -j 8", *timed(_peer(command, config, 8), env, home))
            proto_path, config = suite(home, args.cases, url)
            note("eval, 8 per provider", *timed(_cli(proto_path, "eval", "--per-provider", "8"), env, ROOT))
            proto_path, config = suite(home, args.cases, url)
            note("run, 8 per provider",
                 *timed(_cli(proto_path, "run", "--json", "--per-provider", "8"), env, ROOT))
            note("bare SDK, 8 at a time", asyncio.run(bare_sdk(url, n, 8)))
        loads.append(os.getloadavg()[0])
    med = {name: statistics.median(values) for name, values in walls.items()}
    print(f"suite: {args.cases} cases x 2 variants = {n} calls, {PER_CALL:.2f} s a call; medians of "
          f"{args.reps} rounds; load average {min(loads):.2f}-{max(loads):.2f} (2 shared cores)")
    for jobs in (CONCURRENCY, 8):
        print(f"{'physical limit, ' + str(jobs) + ' at a time':36s} {math.ceil(n / jobs) * PER_CALL:7.2f} s")
    for name, wall in med.items():
        cpu = ""
        if name in cpus:
            used = statistics.median(cpus[name])
            cpu = f"  (CPU {used:.2f} s = {1000 * used / n:.1f} ms a call)"
        runs = " ".join(f"{w:.2f}" for w in walls[name])
        print(f"{name:36s} {wall:7.2f} s{cpu}   [{runs}]")

    def ratio(a: str, b: str) -> str:
        """The median of the per-round ratios (each from measurements taken back to back)."""
        if a not in walls or b not in walls:
            return "-"
        return f"{statistics.median(x / y for x, y in zip(walls[a], walls[b], strict=True)):.2f}"

    def to_limit(a: str, jobs: int) -> str:
        return f"{med[a] / (math.ceil(n / jobs) * PER_CALL):.2f}"

    print("ratios (goal in brackets):")
    engine = "engine in-process, 4 per provider"
    print(f"  engine / bare SDK at 4         {ratio(engine, 'bare SDK, 4 at a time')}  (<= 1.05)")
    print(f"  run / bare SDK at 4            {ratio('run, 4 per provider', 'bare SDK, 4 at a time')}")
    print(f"  run / bare SDK at 8            {ratio('run, 8 per provider', 'bare SDK, 8 at a time')}")
    print(f"  engine / physical limit at 4   {to_limit(engine, 4)}  (<= 1.2)")
    print(f"  run / physical limit at 4      {to_limit('run, 4 per provider', 4)}")
    print(f"  run / physical limit at 8      {to_limit('run, 8 per provider', 8)}")
    print(f"  promptfoo -j 4 / eval at 4     {ratio('promptfoo -j 4', 'eval, 4 per provider')}  (>= 1.5)")
    print(f"  promptfoo -j 4 / run at 4      {ratio('promptfoo -j 4', 'run, 4 per provider')}")
    print(f"  promptfoo -j 8 / eval at 8     {ratio('promptfoo -j 8', 'eval, 8 per provider')}  (>= 1.5)")
    print(f"  promptfoo -j 8 / run at 8      {ratio('promptfoo -j 8', 'run, 8 per provider')}")


if __name__ == "__main__":
    main()
