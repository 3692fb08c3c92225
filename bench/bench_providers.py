"""ProviderHub overhead: streaming through the hub vs iterating the raw `openai` SDK stream.

Both read the same answer from the fake server (`tests/fakeserver.py`), started in its own process so
it does not share a GIL with the client, sending tokens as fast as it can. The hub adds event objects,
timing, cost and the cache write (cache reads are off). Ratio = hub tokens/s / raw SDK tokens/s
(goal >= 0.9, so the hub never hides a model's speed). Client CPU per token (process time) is printed
too: on a loaded machine it is steadier than wall-clock rates.

    python bench/bench_providers.py              # 7 runs of 2,000 tokens each
    python bench/bench_providers.py --runs 3 --tokens 500
"""

from __future__ import annotations

import argparse
import asyncio
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(port: int, text: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fakeserver.py"), "--port", str(port),
                             "--text", text], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()  # "fake OpenAI server on ..."
    return proc


async def _raw(base_url: str) -> tuple[int, float, float]:
    import openai

    client = openai.AsyncOpenAI(api_key="no-key", base_url=base_url, max_retries=0)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        count = 0
        stream = await client.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "go"}], stream=True,
            stream_options={"include_usage": True})
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                count += 1
        return count, time.perf_counter() - start, time.process_time() - cpu
    finally:
        await client.close()


async def _hub(base_url: str) -> tuple[int, float, float]:
    from app.core.prototype import Message, ModelTarget
    from app.providers.events import StreamFailed, TextDelta
    from app.providers.hub import ProviderHub
    from app.providers.registry import Registry

    Registry().add("bench", base_url, needs_key=False)
    hub = ProviderHub()
    target = ModelTarget(id="b", provider="bench", model="fake-model")
    try:
        start, cpu = time.perf_counter(), time.process_time()
        count = 0
        async for event in hub.stream(target, [Message(role="user", content="go")], use_cache=False):
            if isinstance(event, TextDelta):
                count += 1
            elif isinstance(event, StreamFailed):
                raise RuntimeError(str(event))
        return count, time.perf_counter() - start, time.process_time() - cpu
    finally:
        await hub.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=2000)
    args = parser.parse_args()
    os.environ["PROTOSTUDIO_HOME"] = tempfile.mkdtemp(prefix="bench-providers-")
    port = _free_port()
    server = _start_server(port, " ".join(f"w{i}" for i in range(args.tokens)))
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        asyncio.run(_raw(base_url))  # warm up both paths once
        asyncio.run(_hub(base_url))
        raw_rates, hub_rates, raw_cpu, hub_cpu = [], [], [], []
        for _ in range(args.runs):  # interleaved, so load changes hit both alike
            count, seconds, cpu = asyncio.run(_raw(base_url))
            raw_rates.append(count / seconds)
            raw_cpu.append(cpu / count * 1e6)
            count, seconds, cpu = asyncio.run(_hub(base_url))
            hub_rates.append(count / seconds)
            hub_cpu.append(cpu / count * 1e6)
    finally:
        server.terminate()
        server.wait()
    raw, hub = statistics.median(raw_rates), statistics.median(hub_rates)
    print(f"tokens per run      {args.tokens}  (runs: {args.runs}, medians)")
    raw_us, hub_us = statistics.median(raw_cpu), statistics.median(hub_cpu)
    print(f"raw openai SDK      {raw:10.0f} tokens/s  {raw_us:6.0f} us client CPU/token")
    print(f"ProviderHub.stream  {hub:10.0f} tokens/s  {hub_us:6.0f} us client CPU/token")
    print(f"ratio hub / raw     {hub / raw:10.2f}  (goal >= 0.90); CPU/token ratio {hub_us / raw_us:.2f}")


if __name__ == "__main__":
    main()
