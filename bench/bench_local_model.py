"""Bundled model speed: llama-cpp-python in-process versus the app's path, from one run.

  (a) direct: llama_cpp.Llama in this process, create_chat_completion(stream=True), the app's
      load parameters (same n_ctx, threads, use_extra_bufts=False) via `local_server.load_llama`;
  (b) app:    the child process + HTTP + SSE + openai SDK + ProviderHub.stream() (the path every
      run in the app takes), falling back to the openai SDK alone if the hub cannot be used;
  (c) sdk:    the child + openai SDK without the hub, to show where any overhead sits.

Same prompt, temperature 0 and seed, so every path generates the same tokens. Runs are
interleaved (a, b, c, a, b, c, ...) so machine noise hits all paths alike. Throughput is decode
speed: tokens after the first, divided by the time from first to last token. TTFT is separate.

Then (d) side by side: 4 concurrent streams through ProviderHub (max_tokens --side-tokens, 64 by
default, temperature 0), with a pool of 1 child versus 2 (`LocalModel(workers=N)`, each with
its default threads), interleaved over --side-reps rounds. Per round: total wall time, aggregate
tokens/s (all tokens of the 4 answers / wall time) and the time until every one of the 4 streams
has shown its first token, which is what a designer sees as "side by side".

    python bench/bench_local_model.py [--reps 7] [--max-tokens 128] [--threads N] [--no-hub]
                                      [--side-reps 3] [--side-tokens 64] [--only-side]

OMP_* variables in the environment apply to all paths too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.providers.local_model import LOCAL_MODEL_ID, LocalModel
from app.providers.local_server import (
    DEFAULT_N_CTX,
    GENERATION_DEFAULTS,
    THREADS_ENV,
    default_threads,
    load_llama,
)
from app.providers.model_files import bundled_model_path

PROMPT = "Write a long, detailed essay about why people keep paper notebooks, with many examples."
SEED = 42


@dataclass
class Sample:
    ttft_s: float
    tokens: int
    decode_s: float
    text: str

    @property
    def tokens_per_s(self) -> float:
        return (self.tokens - 1) / self.decode_s if self.decode_s > 0 else float("nan")


def timed(deltas: Iterator[str], start: float, count_tokens: callable) -> Sample:  # type: ignore[valid-type]
    first = last = None
    parts = []
    for delta in deltas:
        if not delta:
            continue
        now = time.perf_counter()
        first = first or now
        last = now
        parts.append(delta)
    text = "".join(parts)
    assert first is not None and last is not None, "no tokens were generated"
    return Sample(first - start, count_tokens(text), last - first, text)


async def atimed(deltas: AsyncIterator[str], start: float, count_tokens: callable) -> Sample:  # type: ignore[valid-type]
    collected: list[tuple[float, str]] = []
    async for delta in deltas:
        if delta:
            collected.append((time.perf_counter(), delta))
    assert collected, "no tokens were generated"
    text = "".join(d for _, d in collected)
    return Sample(collected[0][0] - start, count_tokens(text), collected[-1][0] - collected[0][0], text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--no-hub", action="store_true", help="skip ProviderHub; (b) uses the openai SDK")
    parser.add_argument("--side-reps", type=int, default=3, help="rounds of (d), 4 streams each; 0 skips it")
    parser.add_argument("--side-tokens", type=int, default=64)
    parser.add_argument("--only-side", action="store_true", help="run (d) only")
    parser.add_argument("--threads", type=int, default=None, help=f"llama.cpp threads for all paths "
                        f"(sets {THREADS_ENV}; default: the app's default, {default_threads()})")
    args = parser.parse_args()
    if args.threads:
        os.environ[THREADS_ENV] = str(args.threads)  # the child inherits it
    os.environ.setdefault("PROTOSTUDIO_HOME", tempfile.mkdtemp(prefix="protostudio-bench-"))

    if args.only_side:
        return side_by_side(args.side_reps, args.side_tokens)

    import openai

    model_path = bundled_model_path()
    messages = [{"role": "user", "content": PROMPT}]
    params = {"max_tokens": args.max_tokens, "temperature": 0.0, "seed": SEED}

    llm = load_llama(model_path)

    def count_tokens(text: str) -> int:
        return len(llm.tokenize(text.encode(), add_bos=False, special=True))

    def direct() -> Sample:
        start = time.perf_counter()
        chunks = llm.create_chat_completion(messages=messages, stream=True, **GENERATION_DEFAULTS, **params)
        return timed((c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]),
                     start, count_tokens)

    local = LocalModel()
    base_url = local.ensure_started_sync()
    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=300)

    async def sdk() -> Sample:
        start = time.perf_counter()
        stream = await client.chat.completions.create(model=LOCAL_MODEL_ID, messages=messages, stream=True,
                                                      stream_options={"include_usage": True}, **params)

        async def deltas() -> AsyncIterator[str]:
            async for chunk in stream:
                for choice in chunk.choices:
                    yield choice.delta.content or ""

        return await atimed(deltas(), start, count_tokens)

    hub_factory = None if args.no_hub else _hub_factory(local)
    app_label = ("app  (child + HTTP + openai SDK + ProviderHub)" if hub_factory
                 else "app  (child + openai SDK)")

    async def run_all() -> dict[str, list[Sample]]:
        hub = hub_factory() if hub_factory else None
        app_path = _hub_stream(hub, params) if hub else sdk
        results: dict[str, list[Sample]] = {"direct": [], "app": [], "sdk": []}
        for rep in range(args.reps + 1):  # the first round warms up and is not counted
            round_ = {"direct": direct(), "app": await app_path(count_tokens), "sdk": await sdk()}
            if rep:
                for name, sample in round_.items():
                    results[name].append(sample)
        if hub is not None:
            await hub.aclose()
        await client.close()
        return results

    try:
        results = asyncio.run(run_all())
    finally:
        local.shutdown()

    texts = {s.text for samples in results.values() for s in samples}
    print(f"bundled model: {model_path.name}, {default_threads()} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}, n_ctx {DEFAULT_N_CTX}, "
          f"max_tokens {args.max_tokens}, temperature 0, {args.reps} reps (+1 warm-up), interleaved")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"all runs generated the same text: {len(texts) == 1}")
    labels = {"direct": "direct (llama-cpp-python in-process)", "app": app_label,
              "sdk": "sdk  (child + openai SDK, no hub)"}
    medians = {}
    for name, samples in results.items():
        tps = statistics.median(s.tokens_per_s for s in samples)
        ttft = statistics.median(s.ttft_s for s in samples)
        medians[name] = tps
        print(f"{labels[name]:<48} median {tps:6.1f} tokens/s  TTFT {ttft * 1000:6.1f} ms  "
              f"({samples[0].tokens} tokens; tokens/s range {min(s.tokens_per_s for s in samples):.1f}"
              f"-{max(s.tokens_per_s for s in samples):.1f})")
    ratio = medians["app"] / medians["direct"]
    verdict = "met" if ratio >= 0.9 else "NOT met"
    print(f"ratio app / direct throughput: {ratio:.3f}  (goal >= 0.90: {verdict})")
    print(f"ratio sdk / direct throughput: {medians['sdk'] / medians['direct']:.3f}")
    return side_by_side(args.side_reps, args.side_tokens) if args.side_reps > 0 else 0


SIDE_PROMPTS = ["Describe a good onboarding screen.", "List ideas for a coffee shop name.",
                "Explain what a prototype is to a child.", "Write a short product update for users."]


@dataclass
class SideRound:
    wall_s: float
    tokens: int
    all_first_s: float
    """Until the last of the 4 streams showed its first token."""
    first_s: list[float]

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.wall_s


def side_by_side(reps: int, max_tokens: int) -> int:
    """(d): 4 concurrent hub streams, a pool of 1 child versus 2."""
    from app.core.prototype import Message, ModelParams, ModelTarget
    from app.providers.events import Finished, StreamFailed, TextDelta
    from app.providers.hub import ProviderHub
    from app.providers.local_model import threads_per_child
    from app.providers.local_server import cpu_cores

    target = ModelTarget(id="bench", provider="local", model=LOCAL_MODEL_ID,
                         params=ModelParams(max_tokens=max_tokens, temperature=0.0, seed=SEED))
    cores = cpu_cores()
    # (workers, threads per child): the defaults for 1 and 2 workers, and 1 child on every core.
    configs = list(dict.fromkeys([(1, threads_per_child(1)), (2, threads_per_child(2)), (1, cores)]))
    pools = {config: LocalModel(workers=config[0], threads=config[1]) for config in configs}

    async def one(hub: ProviderHub, prompt: str, start: float) -> tuple[float, int]:
        first = None
        async for event in hub.stream(target, [Message(role="user", content=prompt)], use_cache=False):
            if isinstance(event, TextDelta) and first is None:
                first = time.perf_counter() - start
            if isinstance(event, StreamFailed):
                raise RuntimeError(f"hub stream failed: {event.kind}: {event.message}")
            if isinstance(event, Finished):
                assert first is not None and event.completion_tokens, "no tokens were generated"
                return first, event.completion_tokens
        raise RuntimeError("the stream ended without Finished")

    async def round_(hub: ProviderHub) -> SideRound:
        start = time.perf_counter()
        results = await asyncio.gather(*(one(hub, prompt, start) for prompt in SIDE_PROMPTS))
        wall = time.perf_counter() - start
        firsts = [first for first, _ in results]
        return SideRound(wall, sum(tokens for _, tokens in results), max(firsts), sorted(firsts))

    async def run_all() -> dict[tuple[int, int], list[SideRound]]:
        hubs = {config: ProviderHub(local=pool) for config, pool in pools.items()}
        results: dict[tuple[int, int], list[SideRound]] = {config: [] for config in pools}
        try:
            for hub in hubs.values():  # warm-up: starts every child, not counted
                await round_(hub)
            for _ in range(reps):
                for config, hub in hubs.items():
                    results[config].append(await round_(hub))
        finally:
            for hub in hubs.values():
                await hub.aclose()
        return results

    try:
        results = asyncio.run(run_all())
    finally:
        for pool in pools.values():
            pool.shutdown()

    print(f"\n(d) side by side: 4 concurrent streams through ProviderHub, max_tokens {max_tokens}, "
          f"temperature 0, {reps} rounds (+1 warm-up) per pool size, interleaved")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    med: dict[tuple[int, int], dict[str, float]] = {}
    for (workers, threads), rounds in results.items():
        m = med[workers, threads] = {"wall": statistics.median(r.wall_s for r in rounds),
                                     "tps": statistics.median(r.tokens_per_s for r in rounds),
                                     "all_first": statistics.median(r.all_first_s for r in rounds)}
        firsts = statistics.median(r.first_s[0] for r in rounds)
        print(f"workers={workers} x {threads} thread(s): median wall {m['wall']:5.2f} s  "
              f"aggregate {m['tps']:5.1f} tokens/s  all 4 first tokens after {m['all_first']:5.2f} s "
              f"(first one {firsts:4.2f} s; {rounds[0].tokens} tokens per round; "
              f"wall range {min(r.wall_s for r in rounds):.2f}-{max(r.wall_s for r in rounds):.2f} s)")
    one_, two = med[configs[0]], med[configs[1]]
    print(f"ratio wall time 2 / 1 workers (default threads): {two['wall'] / one_['wall']:.2f}")
    print(f"ratio aggregate tokens/s 2 / 1 workers: {two['tps'] / one_['tps']:.2f}")
    print(f"ratio time to all 4 first tokens 2 / 1 workers: {two['all_first'] / one_['all_first']:.2f}")
    if len(configs) > 2:
        alone = med[configs[2]]
        print(f"ratio aggregate tokens/s 2 workers / 1 worker x {cores} threads: "
              f"{two['tps'] / alone['tps']:.2f}; time to all 4 first tokens: "
              f"{two['all_first'] / alone['all_first']:.2f}")
    return 0


def _hub_factory(local: LocalModel) -> callable | None:  # type: ignore[valid-type]
    try:
        from app.providers.hub import ProviderHub
    except Exception as exc:  # the hub is optional for this benchmark
        print(f"(ProviderHub unavailable: {type(exc).__name__}: {exc}; (b) uses the openai SDK)")
        return None
    return lambda: ProviderHub(local=local)


def _hub_stream(hub: object, params: dict[str, object]) -> callable:  # type: ignore[valid-type]
    from app.core.prototype import Message, ModelParams, ModelTarget
    from app.providers.events import StreamFailed, TextDelta

    target = ModelTarget(id="bench", provider="local", model=LOCAL_MODEL_ID, params=ModelParams(**params))
    messages = [Message(role="user", content=PROMPT)]

    async def run(count_tokens: callable) -> Sample:  # type: ignore[valid-type]
        start = time.perf_counter()

        async def deltas() -> AsyncIterator[str]:
            async for event in hub.stream(target, messages, use_cache=False):  # type: ignore[attr-defined]
                if isinstance(event, StreamFailed):
                    raise RuntimeError(f"hub stream failed: {event.kind}: {event.message}")
                if isinstance(event, TextDelta):
                    yield event.text

        return await atimed(deltas(), start, count_tokens)

    return run


if __name__ == "__main__":
    sys.exit(main())
