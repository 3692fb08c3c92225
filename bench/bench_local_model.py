"""Bundled model speed, from one run: the app's path against xllamacpp in-process, four columns at
once, and the thread count and poll level under a quiet and a loaded machine.

  (a) direct: `xllamacpp.Server` in this process with the app's own parameters
      (`local_server.server_params`), streamed with the openai SDK;
  (b) app:    the child process (`LocalModel`) + `ProviderHub.stream()`, the path every run takes.
      Interleaved with (a); same prompt, temperature 0 and seed, so both generate the same tokens.
      Throughput = (tokens - 1) / (last token - first token); TTFT apart. Ratio app / direct.
  (c) columns: 4 concurrent streams through the hub on one process with 4 slots: wall time,
      aggregate tokens/s, and the time until all four streams show text (what a designer sees).
  (d) threads x poll: (a)'s single stream with 1 or 2 threads and poll 0 (the app's) or 50
      (llama.cpp's default), on the machine as it is and with --burn N busy processes beside it.

    python bench/bench_local_model.py [--reps 5] [--max-tokens 128] [--side-tokens 64] [--burn 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openai

from app.core.prototype import Message, ModelParams, ModelTarget
from app.providers.events import Finished, TextDelta, UsageReport
from app.providers.hub import ProviderHub
from app.providers.local_model import LOCAL_MODEL_ID, LocalModel
from app.providers.local_server import default_threads, server_params
from app.providers.model_files import bundled_model_path

PROMPT = "Write a long, detailed essay about why people keep paper notebooks, with many examples."
SEED = 42


@dataclass
class Sample:
    ttft_s: float
    tokens: int
    decode_s: float

    @property
    def tok_s(self) -> float:
        return (self.tokens - 1) / self.decode_s if self.decode_s > 0 and self.tokens > 1 else 0.0


def _burn() -> None:
    while True:
        pass


@contextlib.contextmanager
def burners(n: int) -> Iterator[None]:
    """`n` busy processes for the duration: a loaded machine on demand."""
    procs = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(n)]
    for proc in procs:
        proc.start()
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.join()


class Direct:
    """xllamacpp's server in this process, with the app's parameters."""

    def __init__(self, threads: int, poll: int = 0) -> None:
        import xllamacpp

        self.server = xllamacpp.Server(server_params(str(bundled_model_path()), slots=4, threads=threads,
                                                     poll=poll))
        self.client = openai.OpenAI(base_url=self.server.listening_address + "/v1", api_key="none",
                                    max_retries=0, timeout=600)

    def stream(self, max_tokens: int) -> Sample:
        started = time.perf_counter()
        first = last = 0.0
        tokens = 0
        stream = self.client.chat.completions.create(
            model=LOCAL_MODEL_ID, messages=[{"role": "user", "content": PROMPT}], stream=True, temperature=0,
            seed=SEED, max_tokens=max_tokens, stream_options={"include_usage": True})
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                last = time.perf_counter()
                first = first or last
            if chunk.usage:
                tokens = chunk.usage.completion_tokens
        return Sample(first - started, tokens, last - first)

    def close(self) -> None:
        self.client.close()
        del self.server


def target(max_tokens: int) -> ModelTarget:
    return ModelTarget(id="local", provider="local", model=LOCAL_MODEL_ID,
                       params=ModelParams(temperature=0, seed=SEED, max_tokens=max_tokens))


async def app_stream(hub: ProviderHub, max_tokens: int, prompt: str = PROMPT) -> tuple[Sample, float, float]:
    """One stream through the hub: the sample, and its first-text and end times (perf_counter)."""
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    messages = [Message(role="user", content=prompt)]
    async for event in hub.stream(target(max_tokens), messages, use_cache=False):
        if isinstance(event, TextDelta) and event.text:
            last = time.perf_counter()
            first = first or last
        elif isinstance(event, UsageReport):
            tokens = event.completion_tokens or 0
        elif isinstance(event, Finished):
            tokens = event.completion_tokens or tokens
        else:
            assert type(event).__name__ != "StreamFailed", event
    return Sample(first - started, tokens, last - first), first, last


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def part_ab(reps: int, max_tokens: int, threads: int) -> None:
    direct = Direct(threads)
    local = LocalModel(slots=4, threads=threads)

    async def app_once() -> Sample:
        hub = ProviderHub(local=local)
        try:
            return (await app_stream(hub, max_tokens))[0]
        finally:
            await hub.aclose()

    direct.stream(8)
    asyncio.run(app_once())  # warm both
    ds: list[Sample] = []
    aps: list[Sample] = []
    for _ in range(reps):
        ds.append(direct.stream(max_tokens))
        aps.append(asyncio.run(app_once()))
    direct.close()
    local.shutdown()
    d, a = median([s.tok_s for s in ds]), median([s.tok_s for s in aps])
    print(f"(a) direct in-process   {d:6.1f} tok/s  TTFT {median([s.ttft_s for s in ds]) * 1000:5.0f} ms "
          f"(tokens {ds[0].tokens})")
    print(f"(b) app (child + hub)   {a:6.1f} tok/s  TTFT {median([s.ttft_s for s in aps]) * 1000:5.0f} ms "
          f"(tokens {aps[0].tokens})")
    print(f"    ratio app / direct  {a / d:6.2f}   (goal >= 0.90)")


def part_c(reps: int, tokens: int, threads: int) -> None:
    local = LocalModel(slots=4, threads=threads)
    prompts = [f"Write a short poem about cat number {i}, who likes {food}." for i, food in
               enumerate(["fish", "milk", "yarn", "naps"])]

    async def round_() -> tuple[float, float, float]:
        hub = ProviderHub(local=local)
        try:
            started = time.perf_counter()
            results = await asyncio.gather(*(app_stream(hub, tokens, p) for p in prompts))
            wall = time.perf_counter() - started
            all_text = max(first for _, first, _ in results) - started
            first_done = min(last for _, _, last in results) - started
            total = sum(sample.tokens for sample, _, _ in results)
            return wall, total / wall, all_text if all_text < first_done else float("inf")
        finally:
            await hub.aclose()

    asyncio.run(round_())  # warm
    rounds = [asyncio.run(round_()) for _ in range(reps)]
    local.shutdown()
    together = sum(r[2] != float("inf") for r in rounds)
    print(f"(c) 4 columns, {threads} thread(s): wall {median([r[0] for r in rounds]):5.1f} s, "
          f"{median([r[1] for r in rounds]):5.1f} tok/s in total, all four showing text after "
          f"{median([r[2] for r in rounds]):4.2f} s (before any finished in {together}/{reps} rounds)")


def part_d(reps: int, max_tokens: int, burn: int) -> None:
    for load in sorted({0, burn}):
        with burners(load):
            for threads in (1, 2):
                for poll in (0, 50):
                    direct = Direct(threads, poll)
                    direct.stream(8)
                    rates = [direct.stream(max_tokens).tok_s for _ in range(reps)]
                    direct.close()
                    print(f"(d) +{load} busy, {threads} thread(s), poll {poll:2d}: "
                          f"{median(rates):6.1f} tok/s (min {min(rates):5.1f}, max {max(rates):5.1f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--side-tokens", type=int, default=64)
    parser.add_argument("--burn", type=int, default=2, help="busy processes for the loaded half of (d)")
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--skip", default="", help="parts to skip, e.g. 'd'")
    args = parser.parse_args()
    print(f"date {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.1f}, "
          f"{os.cpu_count()} cores, threads {args.threads}, reps {args.reps}")
    if "a" not in args.skip:
        part_ab(args.reps, args.max_tokens, args.threads)
    if "c" not in args.skip:
        for threads in sorted({1, args.threads}):
            part_c(args.reps, args.side_tokens, threads)
    if "d" not in args.skip:
        part_d(args.reps, args.max_tokens // 2, args.burn)
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
