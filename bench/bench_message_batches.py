"""What `run --batch` costs on our side for a large suite on an Anthropic target (issue 14's scale:
5,000 cases x 3 profiles = 15,000 cells), against the loopback fake of Message Batches.

Phases, each timed once: select (sort the cells), submit (build the requests, save the job and
its intent, POST them, save the id), wait (status requests until it ends), collect (download and
read the results, build the runs, write the response cache) and the final save. Also the size of
the create request (Anthropic's limit: 256 MB and 100,000 requests per batch).

    PYTHONPATH=. python bench/bench_message_batches.py [--cases 5000] [--profiles 3]

Figures are one run on a shared machine: print `uptime` with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import keyring.backend

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakeanthropicbatch import FakeAnthropicBatches

BENCH_KEY = "bench-key-not-secret"


class _MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def _proto_text(base_url: str, cases: int, profiles: int) -> str:
    lines = ["protostudio: 3", "name: Big suite", "profiles:"]
    lines += [f"  - {{id: p{i}, system_prompt: 'Variant {i}: answer in one short sentence.'}}"
              for i in range(profiles)]
    lines += ["models:", f"  - {{id: a, provider: anthropic, model: claude-x, base_url: '{base_url}'}}",
              "cases:"]
    lines += [f"  - {{id: c{i}, turns: [{{content: 'Question number {i}: what is {i} plus {i}?'}}]}}"
              for i in range(cases)]
    return "\n".join(lines) + "\n"


async def _run(base_url: str, path: Path, cases: int, profiles: int) -> dict[str, float]:
    from app.core.document import parse_prototype, save_prototype
    from app.engine.batch import BatchRunner
    from app.engine.plan import RunPlan
    from app.providers.hub import ProviderHub

    figures: dict[str, float] = {}
    proto = parse_prototype(_proto_text(base_url, cases, profiles), str(path))
    hub = ProviderHub()
    runner = BatchRunner(hub, poll_interval=0.0)
    saves = 0

    def save(p: object) -> None:
        nonlocal saves
        saves += 1
        save_prototype(proto, path)

    start = time.perf_counter()
    selection = await runner.select(proto, RunPlan(use_cache=False))
    figures["select_s"] = time.perf_counter() - start
    start = time.perf_counter()
    (job,) = await runner.submit(proto, selection, "run", save)
    figures["submit_s"] = time.perf_counter() - start
    figures["saves_in_submit"] = saves
    start = time.perf_counter()
    state = await runner.wait(proto, job, save, lambda j, s: None)
    figures["wait_s"] = time.perf_counter() - start
    start = time.perf_counter()
    collected = await runner.settle(proto, job, state)
    figures["collect_s"] = time.perf_counter() - start
    assert collected is not None and len(collected.runs) == cases * profiles
    start = time.perf_counter()
    for run in collected.runs:
        proto.runs.append(run)
    save_prototype(proto, path)
    figures["final_save_s"] = time.perf_counter() - start
    figures["file_mb"] = path.stat().st_size / 1e6
    await hub.aclose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--profiles", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["PROTOSTUDIO_HOME"] = home
        os.environ.pop("ANTHROPIC_API_KEY", None)
        import keyring

        keyring.set_keyring(_MemoryKeyring())  # never the real keyring
        with FakeAnthropicBatches(api_key=BENCH_KEY) as server:
            from app.providers.keys import KeyStore
            from app.providers.registry import host_of

            KeyStore().store("anthropic", host_of(server.base_url), BENCH_KEY)
            server.steps = 2
            figures = asyncio.run(_run(server.base_url, Path(home) / "big.yaml", args.cases, args.profiles))
            (batch,) = server.batches.values()
            figures["create_body_mb"] = len(json.dumps({"requests": batch.requests}).encode()) / 1e6
    cells = args.cases * args.profiles
    print(f"cells: {cells} ({args.cases} cases x {args.profiles} profiles), one Anthropic target")
    for name, value in figures.items():
        print(f"{name:>16}: {value:.3f}")
    total = figures["select_s"] + figures["submit_s"] + figures["collect_s"] + figures["final_save_s"]
    print(f"{'our side total_s':>16}: {total:.3f}  ({total / cells * 1e6:.0f} µs per cell)")
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
