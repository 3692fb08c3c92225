"""One fault stays in one target: a 429 and a hung request on one model do not slow another model's
cells on the same endpoint. Before per-target accounting, the 429 halved the whole provider's limit
and the hung request held its only slot until the timeout, case after case."""

from __future__ import annotations

import asyncio
import threading
from time import perf_counter

from engine_kit import make_proto
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.prototype import Run
from app.engine.engine import Engine
from app.engine.events import CellFinished, EngineEvent
from app.engine.plan import RunPlan
from app.providers.hub import ProviderHub

HANG_TIMEOUT = 4.0


def _healthy_finish_times(fake_server: FakeOpenAI, *, faulty: bool) -> list[float]:
    proto = make_proto(profiles=1, models=[("good", "fake", "good-model"), ("bad", "fake", "bad-model")],
                       cases=4)
    lock = threading.Lock()
    bad_calls = 0

    def responder(rec: Recorded) -> Reply:
        nonlocal bad_calls
        if (rec.body or {}).get("model") != "bad-model":
            return Reply(text="fine thanks", ttft=0.05)
        if not faulty:
            return Reply(text="fine thanks", ttft=0.05)
        with lock:
            bad_calls += 1
            first = bad_calls == 1
        return Reply(status=429, retry_after=0.2) if first else Reply(fault="hang")

    fake_server.responder = responder
    finished: list[float] = []

    async def main() -> list[Run]:
        hub = ProviderHub(timeout=HANG_TIMEOUT)
        engine = Engine(hub, concurrency=8, per_provider=2, stall_after=0.5)
        start = perf_counter()

        def on_event(event: EngineEvent) -> None:
            if isinstance(event, CellFinished) and event.cell.model == "good":
                finished.append(perf_counter() - start)

        try:
            models = ["good", "bad"]
            return await engine.run(proto, RunPlan(models=models, use_cache=False), on_event)
        finally:
            await hub.aclose()

    runs = asyncio.run(main())
    assert [r.status for r in runs if r.model == "good"] == ["ok"] * 4
    if faulty:
        assert all(r.status == "error" for r in runs if r.model == "bad")
    return finished


def test_a_hung_and_rate_limited_sibling_does_not_delay_healthy_cells(
        fake_server: FakeOpenAI, fake_provider: str) -> None:
    calm = _healthy_finish_times(fake_server, faulty=False)
    faulty = _healthy_finish_times(fake_server, faulty=True)
    # Before the fix each later case waited for the hung request's timeout (>= 4 s per case).
    assert max(faulty) < max(calm) + HANG_TIMEOUT / 2, (calm, faulty)


def test_a_429_halves_only_that_targets_limit(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("good", "fake", "good-model"), ("bad", "fake", "bad-model")],
                       cases=3)
    lock = threading.Lock()
    limited = False

    def responder(rec: Recorded) -> Reply:
        nonlocal limited
        with lock:
            if (rec.body or {}).get("model") == "bad-model" and not limited:
                limited = True
                return Reply(status=429, retry_after=0.1)
        return Reply(ttft=0.05)

    fake_server.responder = responder

    async def main() -> dict[str, tuple[int, int]]:
        hub = ProviderHub(timeout=5.0)
        engine = Engine(hub, per_provider=4, recover_after=100)
        try:
            await engine.run(proto, RunPlan(use_cache=False), lambda event: None)
            return engine.target_limits()
        finally:
            await hub.aclose()

    limits = asyncio.run(main())
    assert limits["fake#bad-model"] == (2, 4)
    assert limits["fake#good-model"] == (4, 4)


def test_per_provider_limit_flag_and_setting(fake_server: FakeOpenAI, tmp_path: object) -> None:
    """`providers add --concurrency` sets an endpoint's limit; `run --provider-limit` overrides it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    assert cli("providers", "add", "wide", "--base-url", fake_server.base_url, "--no-key",
               "--concurrency", "6").returncode == 0
    fake_server.default = Reply(ttft=0.3)
    path = Path(str(tmp_path)) / "p.yaml"
    cases = "".join(f"  - id: c{i}\n    turns:\n      - content: q{i}\n" for i in range(6))
    path.write_text("name: p\nprofiles:\n  - id: p\nmodels:\n  - id: m\n    provider: wide\n"
                    f"    model: fake-model\ncases:\n{cases}", encoding="utf-8")
    assert cli("run", str(path), "--no-cache").returncode == 0
    assert fake_server.max_in_flight == 6  # the provider's own setting, over the default 4
    fake_server.max_in_flight = 0
    assert cli("run", str(path), "--no-cache", "--provider-limit", "wide=2").returncode == 0
    assert fake_server.max_in_flight == 2
    bad = cli("run", str(path), "--provider-limit", "wide")
    assert bad.returncode == 2 and "PROVIDER=N" in bad.stderr
