"""Engine speed: side-by-side racing, a 200 x 2 matrix against its physical limit, and promptfoo as the peer.

All figures come from one run against the scriptable fake server (`tests/fakeserver.py`), started
standalone in its own process so it does not share a GIL with the engine. Every request goes
through the real path: Engine -> ProviderHub -> openai SDK -> HTTP on loopback. Cache is off.

    python bench/bench_engine.py             # everything (the peer needs `npm ci` in bench/ first)
    python bench/bench_engine.py --no-peer   # skip promptfoo
    python bench/bench_engine.py --cases 50  # a shorter matrix while developing

The machine is shared: read the ratios next to the control line, which runs the same requests
with nothing but the openai SDK and a semaphore at the same moment. When the control itself is
far above the physical limit, the machine (or the SDK's per-chunk parsing) is the bottleneck.

Figures:
  side-by-side  4 variants of one case started together, wall time / the slowest of the same 4
                streams run alone (goal <= 1.05). Server: TTFT 200 ms, 100 tokens/s, 50 tokens.
  matrix        200 cases x 2 models at concurrency 8 (2 providers x 4), wall time /
                (ceil(N/C) x per-request time), where the per-request time is the median of
                single requests run alone through the same path (goal <= 1.15).
                Server: TTFT 50 ms, 100 tokens/s, 20-token answers (~0.24 s a request).
  peer          `protostudio run` vs `promptfoo eval -j 8 --no-cache --no-write` on the same 200 x 2
                suite and the same server, whole processes timed from start to exit (goal: ours >=
                1.5x faster). promptfoo does not stream; the server paces a non-streamed answer at
                the same token rate, so both wait the same time for each answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

ANSWER = " ".join(f"tok{i}" for i in range(20))
"""The matrix's fixed answer: 20 tokens."""
RACE_ANSWER = " ".join(f"word{i}" for i in range(50))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fake_server(*, ttft: float, tokens_per_s: float | None, text: str) -> Iterator[str]:
    """`python tests/fakeserver.py` in its own process; yields its base URL."""
    port = free_port()
    cmd = [sys.executable, str(ROOT / "tests" / "fakeserver.py"), "--port", str(port), "--ttft", str(ttft),
           "--text", text]
    if tokens_per_s:
        cmd += ["--tokens-per-s", str(tokens_per_s)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "fake OpenAI server on ..."
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def prototype(cases: int, models: list[tuple[str, str]], profiles: int = 1) -> object:
    from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn

    return Prototype(
        name="engine bench",
        profiles=[Profile(id=f"p{i}", system_prompt=f"You are a helpful assistant, variant {i}.")
                  for i in range(profiles)],
        models=[ModelTarget(id=mid, provider=provider, model=mid) for mid, provider in models],
        cases=[Case(id=f"c{i:03d}", vars={"n": str(i)}, turns=[Turn(content="Tell me about item {{n}}.")])
               for i in range(cases)],
    )


async def timed_run(proto: object, **plan: object) -> float:
    """Wall time of one engine run with a fresh engine on a warm hub; fails loudly on any failed cell."""
    from app.engine.engine import Engine
    from app.engine.plan import RunPlan
    from app.providers.hub import ProviderHub

    hub = ProviderHub()
    try:
        warm = {**plan, "cases": [proto.cases[0].id]}  # type: ignore[attr-defined]  # connections, imports
        await Engine(hub).run(proto, RunPlan(use_cache=False, **warm), lambda e: None)  # type: ignore[arg-type]
        engine = Engine(hub, concurrency=8, per_provider=4)
        start = time.perf_counter()
        runs = await engine.run(proto, RunPlan(use_cache=False, **plan), lambda e: None)  # type: ignore[arg-type]
        wall = time.perf_counter() - start
    finally:
        await hub.aclose()
    bad = [r for r in runs if r.status != "ok"]
    if bad:
        raise SystemExit(f"bench run failed: {bad[0].error}")
    return wall


def side_by_side(repeats: int) -> tuple[float, float, float]:
    """Engine together, engine slowest alone, and the bare-SDK control's together/alone ratio."""
    with fake_server(ttft=0.2, tokens_per_s=100, text=RACE_ANSWER) as url:
        register("bench-a", url)
        proto = prototype(1, [("model-a", "bench-a")], profiles=4)
        together, alone, control = [], [], []
        for _ in range(repeats):
            together.append(asyncio.run(timed_run(proto)))
            alone.append(max(asyncio.run(timed_run(proto, profiles=[f"p{i}"])) for i in range(4)))
            bare_alone = max(asyncio.run(bare_sdk(url, 1)) for _ in range(4))
            control.append(asyncio.run(bare_sdk(url, 4)) / bare_alone)
    return statistics.median(together), statistics.median(alone), statistics.median(control)


def matrix(cases: int, url: str, repeats: int) -> tuple[float, float, int, float]:
    proto = prototype(cases, [("model-a", "bench-a"), ("model-b", "bench-b")])
    single = [asyncio.run(timed_run(proto, cases=["c000"], models=["model-a"])) for _ in range(7)]
    per_request = statistics.median(single)
    walls, bare = [], []
    for _ in range(repeats):
        walls.append(asyncio.run(timed_run(proto)))
        bare.append(asyncio.run(bare_sdk(url, cases * 2)))
    return statistics.median(walls), per_request, cases * 2, statistics.median(bare)


async def bare_sdk(url: str, n: int, concurrency: int = 8) -> float:
    """The control: the same requests with nothing but the openai SDK and a semaphore (no engine, no hub)."""
    import openai

    client = openai.AsyncOpenAI(api_key="no-key", base_url=url, max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            stream = await client.chat.completions.create(
                model="model-a", stream=True, stream_options={"include_usage": True},
                messages=[{"role": "system", "content": "You are a helpful assistant, variant 0."},
                          {"role": "user", "content": f"Tell me about item {i}."}])
            async for _ in stream:
                pass

    try:
        await one(0)
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - start
    finally:
        await client.close()


def register(provider_id: str, url: str) -> None:
    from app.providers.registry import Registry

    Registry().add(provider_id, url, needs_key=False)


def write_suite(folder: Path, cases: int, url: str) -> tuple[Path, Path]:
    """The same suite for both tools: our prototype file, and a promptfoo config."""
    from app.core.document import save_prototype

    proto_path = folder / "suite.yaml"
    save_prototype(prototype(cases, [("model-a", "bench-a"), ("model-b", "bench-b")]), proto_path)  # type: ignore[arg-type]
    prompt = [{"role": "system", "content": "You are a helpful assistant, variant 0."},
              {"role": "user", "content": "Tell me about item {{n}}."}]
    (folder / "prompt.json").write_text(json.dumps(prompt), encoding="utf-8")
    config = {
        "description": "protostudio engine bench (peer)",
        "prompts": ["file://prompt.json"],
        "providers": [{"id": f"openai:chat:{model}", "label": model,
                       "config": {"apiBaseUrl": url, "apiKey": "no-key"}}
                      for model in ("model-a", "model-b")],
        "tests": [{"vars": {"n": str(i)}} for i in range(cases)],
    }
    config_path = folder / "promptfooconfig.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    return proto_path, config_path


def timed_process(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall


def peer(cases: int, url: str, home: Path, repeats: int) -> tuple[float, float] | None:
    promptfoo = BENCH / "node_modules" / ".bin" / "promptfoo"
    if not promptfoo.exists():
        print("peer: skipped (run `npm ci` in bench/ to install the pinned promptfoo)")
        return None
    folder = home / "suite"
    folder.mkdir(exist_ok=True)
    env = {**os.environ, "PROTOSTUDIO_HOME": str(home), "PROMPTFOO_CONFIG_DIR": str(home / "promptfoo"),
           "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1",
           "PROMPTFOO_CACHE_ENABLED": "false",
           "PROMPTFOO_DISABLE_SHARING": "1", "OPENAI_API_KEY": "no-key", "NO_COLOR": "1"}
    ours_cmd = [sys.executable, "-m", "app.cli", "run", "SUITE", "--no-cache", "--concurrency", "8", "--json"]
    theirs_cmd = [str(promptfoo), "eval", "-c", "CONFIG", "-j", "8", "--no-cache", "--no-progress-bar",
                  "--no-table", "--no-write", "--no-share"]
    ours, theirs = [], []
    for _ in range(repeats):
        proto_path, config_path = write_suite(folder, cases, url)  # fresh: our run appends to the file
        ours.append(timed_process([str(proto_path) if a == "SUITE" else a for a in ours_cmd], env, ROOT))
        theirs_args = [str(config_path) if a == "CONFIG" else a for a in theirs_cmd]
        theirs.append(timed_process(theirs_args, env, folder))
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="protostudio-bench-"))
    os.environ["PROTOSTUDIO_HOME"] = str(home)
    try:
        print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        together, alone, control = side_by_side(args.repeats)
        print(f"side-by-side: 4 variants together {together:.3f} s, slowest alone {alone:.3f} s, "
              f"ratio {together / alone:.3f} (goal <= 1.05); bare-SDK control ratio {control:.3f}")
        with fake_server(ttft=0.05, tokens_per_s=100, text=ANSWER) as url:
            register("bench-a", url)
            register("bench-b", url)
            wall, per_request, n, bare = matrix(args.cases, url, args.repeats)
            limit = math.ceil(n / 8) * per_request
            print(f"matrix: {args.cases} cases x 2 models = {n} requests at concurrency 8: "
                  f"wall {wall:.3f} s, "
                  f"per request {per_request * 1000:.1f} ms, physical limit {limit:.3f} s, "
                  f"ratio {wall / limit:.3f} (goal <= 1.15)")
            print(f"matrix control: bare openai SDK + semaphore(8), same requests: {bare:.3f} s, "
                  f"ratio to the limit {bare / limit:.3f}; engine / bare SDK {wall / bare:.3f}")
            if not args.no_peer:
                result = peer(args.cases, url, home, args.repeats)
                if result is not None:
                    ours, theirs = result
                    print(f"peer: protostudio run {ours:.2f} s, promptfoo eval {theirs:.2f} s "
                          f"(whole processes, {n} requests, -j 8, no cache): "
                          f"ours is {theirs / ours:.2f}x faster (goal >= 1.5)")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
