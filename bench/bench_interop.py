"""Speed against a bare SDK loop, the physical limit and promptfoo, from one run (issue 14's suite).

The suite: 200 cases x 2 variants (two prompts/profiles) on one provider, an echo with a
`contains` check, against the scriptable server (`tests/fakeserver.py`, own process) at 50 ms
TTFT and 40 tokens at 500 tok/s, so 0.13 s a call. At the same concurrency C:

  ours            `protostudio run SUITE --no-cache` as a whole process (one provider: C = 4, the
                  per-provider limit), and the in-process engine alone
  bare SDK        the same 400 requests with nothing but `openai.AsyncOpenAI` streaming, C at a time
  physical limit  ceil(400 / C) x 0.13 s
  promptfoo       `promptfoo eval -j C --no-cache` on the same suite (skipped without node)

    python bench/bench_interop.py               # everything
    python bench/bench_interop.py --no-peer     # skip promptfoo
    python bench/bench_interop.py --cases 50    # shorter, while developing

Prints each figure, the load average, and the ratios: ours / bare SDK (goal <= 1.05), ours /
physical limit (goal <= 1.2), promptfoo / ours (goal >= 1.5). The machine is shared: the load
average printed with the figures says how much to trust them.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
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
"""The engine's per-provider limit (helper "hardening" makes it a setting); everything runs at it."""


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200)
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
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 shared cores)")
    with fake_server(ttft=TTFT, tokens_per_s=RATE, text=ANSWER) as url:
        register("bench-a", url)
        limit = math.ceil(n / CONCURRENCY) * PER_CALL
        proto_path, config = suite(home, args.cases, url)
        engine_wall = asyncio.run(engine_only(proto_path))
        bare = asyncio.run(bare_sdk(url, n, CONCURRENCY))
        proto_path, config = suite(home, args.cases, url)  # fresh file: the run appends
        run_wall, run_cpu = timed(
            [
                sys.executable,
                "-m",
                "app.cli",
                "run",
                str(proto_path),
                "--no-cache",
                "--concurrency",
                "8",
                "--json",
            ],
            env,
            ROOT,
        )
        proto_path, config = suite(home, args.cases, url)
        eval_wall, eval_cpu = timed(
            [sys.executable, "-m", "app.cli", "eval", str(proto_path), "--no-cache"], env, ROOT
        )
        peer: dict[int, tuple[float, float]] = {}
        command = None
        if not args.no_peer:
            from test_export_kit import promptfoo_command

            command = promptfoo_command()
        if command is not None:
            for jobs in (CONCURRENCY, 8):
                peer[jobs] = timed(
                    [
                        *command,
                        "eval",
                        "-c",
                        str(config),
                        "-j",
                        str(jobs),
                        "--no-cache",
                        "--no-progress-bar",
                        "--no-table",
                        "--no-write",
                        "--no-share",
                    ],
                    env,
                    home,
                )
        load = os.getloadavg()[0]
    print(
        f"suite: {args.cases} cases x 2 variants = {n} calls, {PER_CALL:.2f} s a call, "
        f"concurrency {CONCURRENCY}"
    )
    print(f"physical limit          {limit:7.2f} s")
    print(f"bare SDK loop           {bare:7.2f} s")
    print(f"engine in-process       {engine_wall:7.2f} s")
    print(
        f"protostudio run         {run_wall:7.2f} s  "
        f"(CPU {run_cpu:.2f} s = {1000 * run_cpu / n:.1f} ms a call)"
    )
    print(f"protostudio eval        {eval_wall:7.2f} s  (CPU {eval_cpu:.2f} s)")
    for jobs, (wall, cpu) in peer.items():
        print(f"promptfoo -j {jobs}          {wall:7.2f} s  (CPU {cpu:.2f} s)")
    print(f"load average at end: {load:.2f}")
    print("ratios:")
    print(f"  engine / bare SDK            {engine_wall / bare:.2f}  (goal <= 1.05)")
    print(f"  run / bare SDK               {run_wall / bare:.2f}")
    print(f"  engine / physical limit      {engine_wall / limit:.2f}  (goal <= 1.2)")
    print(f"  run / physical limit         {run_wall / limit:.2f}")
    if peer:
        print(
            f"  promptfoo -j {CONCURRENCY} / eval        "
            f"{peer[CONCURRENCY][0] / eval_wall:.2f}  (goal >= 1.5)"
        )
        print(f"  promptfoo -j {CONCURRENCY} / run         {peer[CONCURRENCY][0] / run_wall:.2f}")
        print(f"  promptfoo -j 8 / run         {peer[8][0] / run_wall:.2f}  (promptfoo at 8, ours held at 4)")


if __name__ == "__main__":
    main()
