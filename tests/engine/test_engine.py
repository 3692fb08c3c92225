"""The engine against the loopback fake server: order, limits, cancellation, backoff, failures, events."""

from __future__ import annotations

import asyncio
import threading

from engine_kit import make_proto, run_async
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.prototype import Run
from app.engine.engine import Engine
from app.engine.events import (
    Cell,
    CellCancelled,
    CellDelta,
    CellFailed,
    CellFinished,
    CellQueued,
    CellStarted,
    EngineEvent,
    Progress,
)
from app.engine.plan import RunPlan

LONG = " ".join(f"word{i}" for i in range(60))


def who(rec: Recorded) -> tuple[str, str, str]:
    """(case, profile, model name) of a request, read back from what it sent."""
    messages = rec.messages
    profile = next((m["content"].split()[-1].rstrip(".") for m in messages if m["role"] == "system"), "-")
    case = next(m["content"].split()[-1] for m in messages if m["role"] == "user")
    return case, profile, str((rec.body or {}).get("model"))


def by_model(replies: dict[str, Reply]) -> callable[[Recorded], Reply | None]:  # type: ignore[valid-type]
    return lambda rec: replies.get(str((rec.body or {}).get("model")))


def test_cells_start_in_plan_order(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=2, models=[("a", "fake", "ma"), ("b", "fake", "mb")], cases=3)
    fake_server.default = Reply(ttft=0.01)

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    runs, events = run_async(body, concurrency=1)
    expected = [(f"c{c}", f"p{p}", m) for c in range(3) for p in range(2) for m in ("ma", "mb")]
    assert [who(r) for r in fake_server.chat_requests()] == expected
    assert [(r.case, r.profile, r.model_name) for r in runs] == expected
    started = [e.cell for e in events if isinstance(e, CellStarted)]
    assert [(c.case, c.profile) for c in started] == [(c, p) for c, p, _ in expected]


def test_events_queued_started_deltas_finished_and_progress(fake_server: FakeOpenAI,
                                                           fake_provider: str) -> None:
    proto = make_proto(profiles=2, models=[("a", "fake", "ma")], cases=2)
    fake_server.default = Reply(text="one two three")

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    runs, events = run_async(body)
    assert all(isinstance(e, CellQueued) for e in events[:4])
    cell = Cell("c0", "p0", "a")
    deltas = "".join(e.text for e in events if isinstance(e, CellDelta) and e.cell == cell)
    finished = [e for e in events if isinstance(e, CellFinished)]
    assert deltas == "one two three"
    assert len(finished) == 4
    run = next(e.run for e in finished if e.cell == cell)
    assert run.status == "ok" and run.output == "one two three" and run.finish_reason == "stop"
    assert run.messages[0].content == "You are profile p0." and run.messages[1].content == "case c0"
    assert run.usage.completion_tokens == 3 and run.usage.prompt_tokens
    assert run.provider == "fake" and run.model_name == "ma" and not run.cached
    assert run.ttft_ms is not None and run.latency_ms is not None and run.cost_usd is None
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.done for p in progress] == [1, 2, 3, 4]
    assert progress[-1].total == 4 and progress[-1].tokens == sum(
        (r.usage.prompt_tokens or 0) + (r.usage.completion_tokens or 0) for r in runs)
    assert progress[-1].cost_usd is None and progress[-1].cost_unknown == 4


def test_side_by_side_columns_start_together(fake_server: FakeOpenAI, fake_provider: str) -> None:
    """With room for 3, a case of 2 columns waits for 2 free slots instead of starting one alone."""
    proto = make_proto(profiles=2, models=[("a", "fake", "ma")], cases=2)
    fake_server.default = Reply(ttft=0.2)

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    runs, _ = run_async(body, concurrency=3)
    assert [r.status for r in runs] == ["ok"] * 4
    assert fake_server.max_in_flight == 2
    assert [who(r)[0] for r in fake_server.chat_requests()] == ["c0", "c0", "c1", "c1"]


def test_global_limit_is_respected(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=12)
    fake_server.default = Reply(ttft=0.1)

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    runs, _ = run_async(body, concurrency=3, per_provider=10)
    assert len(runs) == 12 and all(r.status == "ok" for r in runs)
    assert fake_server.max_in_flight == 3


def test_per_provider_limit_is_respected(fake_server: FakeOpenAI, fake_provider: str,
                                         second_server: FakeOpenAI, other_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma"), ("b", "other", "mb")], cases=8)
    fake_server.default = second_server.default = Reply(ttft=0.1)

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    runs, _ = run_async(body, concurrency=8, per_provider=2)
    assert all(r.status == "ok" for r in runs)
    assert fake_server.max_in_flight == 2 and second_server.max_in_flight == 2
    assert len(fake_server.chat_requests()) == len(second_server.chat_requests()) == 8


def test_one_failing_model_leaves_the_other_columns_to_finish(fake_server: FakeOpenAI,
                                                              fake_provider: str) -> None:
    models = [("good", "fake", "ok-model"), ("bad", "fake", "missing-model")]
    proto = make_proto(profiles=2, models=models, cases=3)
    fake_server.responder = by_model({"missing-model": Reply(status=404, message="The model does not exist")})

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    runs, events = run_async(body)
    good = [r for r in runs if r.model == "good"]
    bad = [r for r in runs if r.model == "bad"]
    assert len(good) == len(bad) == 6
    assert all(r.status == "ok" and r.output.startswith("Echo: case") for r in good)
    assert all(r.status == "error" and r.error and "missing-model" in r.error for r in bad)
    assert sum(isinstance(e, CellFailed) for e in events) == 6
    assert [e for e in events if isinstance(e, Progress)][-1].failed == 6


def test_a_cut_stream_keeps_its_partial_text(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=1)
    fake_server.enqueue(Reply(text="one two three four five", fault="cut", cut_after=2))

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    (run,), _ = run_async(body)
    assert run.status == "cut" and run.output == "one two" and run.error


def test_a_server_error_is_retried_once_more(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=1)
    fake_server.enqueue(Reply(status=500), Reply(text="fine"))

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    (run,), events = run_async(body)
    assert run.status == "ok" and run.output == "fine"
    assert len(fake_server.chat_requests()) == 2
    assert any(isinstance(e, CellQueued) and "retrying" in e.reason for e in events)


def test_backoff_on_429_halves_the_provider_and_every_cell_finishes(fake_server: FakeOpenAI,
                                                                     fake_provider: str) -> None:
    """Four 429s with Retry-After: the engine waits, runs at most 2 at a time, then grows back."""
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=10)
    seen_in_flight: list[tuple[float, int]] = []
    lock = threading.Lock()
    limited = 0

    def responder(rec: Recorded) -> Reply:
        nonlocal limited
        with lock:
            seen_in_flight.append((rec.at, fake_server.in_flight))
            if limited < 4:
                limited += 1
                return Reply(ttft=0.05, status=429, retry_after=0.3)
        return Reply(ttft=0.1)

    fake_server.responder = responder
    limits: list[dict[str, tuple[int, int]]] = []

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        def on_event(event: EngineEvent) -> None:
            events.append(event)
            if isinstance(event, CellFinished):
                limits.append(engine.provider_limits())
        return await engine.run(proto, RunPlan(use_cache=False), on_event)

    runs, events = run_async(body, concurrency=8, per_provider=4, recover_after=3)
    assert [r.status for r in runs] == ["ok"] * 10
    requeued = [e for e in events if isinstance(e, CellQueued) and "rate limited" in e.reason]
    assert len(requeued) == 4
    requests = fake_server.chat_requests()
    assert len(requests) == 14
    first_429_at = requests[0].at
    after = [n for at, n in seen_in_flight[4:]]
    assert all(at >= first_429_at + 0.3 for at, _ in seen_in_flight[4:]), "did not wait for Retry-After"
    assert after[:2] and max(after[:4]) <= 2, "did not halve the provider's concurrency"
    assert limits[0]["fake"] == (2, 4)
    assert limits[-1]["fake"][0] > 2, "never recovered after successes"


def test_rate_limit_retries_are_bounded(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=1)
    fake_server.default = Reply(status=429, retry_after=0.01)

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    (run,), _ = run_async(body, max_rate_limit_retries=2)
    assert run.status == "error" and run.error
    assert len(fake_server.chat_requests()) == 3


def _slow_run(fake_server: FakeOpenAI, cancel: str, cases: int = 2) -> tuple[list[Run], list[EngineEvent]]:
    """Two columns per case streaming slowly; cancel once c0/p0 has shown some text."""
    proto = make_proto(profiles=2, models=[("a", "fake", "ma")], cases=cases)
    fake_server.default = Reply(text=LONG, tokens_per_s=30)
    fake_server.responder = lambda rec: Reply(text="quick") if who(rec)[0] == "c1" else None

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        target = Cell("c0", "p0", "a")

        def on_event(event: EngineEvent) -> None:
            events.append(event)
            shown = sum(isinstance(e, CellDelta) and e.cell == target for e in events)
            if isinstance(event, CellDelta) and event.cell == target and shown == 3:
                {"cell": lambda: engine.cancel_cell(target), "case": lambda: engine.cancel_case("c0"),
                 "all": engine.cancel_all}[cancel]()

        return await asyncio.wait_for(engine.run(proto, RunPlan(use_cache=False), on_event), 30)

    return run_async(body, concurrency=2)


def test_cancel_one_cell_keeps_its_partial_text(fake_server: FakeOpenAI, fake_provider: str) -> None:
    runs, events = _slow_run(fake_server, "cell")
    status = {(r.case, r.profile): r for r in runs}
    cancelled = status[("c0", "p0")]
    assert cancelled.status == "cancelled" and cancelled.output.startswith("word0 word1 word2")
    assert len(cancelled.output) < len(LONG)
    assert status[("c0", "p1")].status == "ok" and status[("c0", "p1")].output == LONG
    assert status[("c1", "p0")].status == status[("c1", "p1")].status == "ok"
    assert sum(isinstance(e, CellCancelled) for e in events) == 1


def test_cancel_a_case_cancels_its_columns_only(fake_server: FakeOpenAI, fake_provider: str) -> None:
    runs, _ = _slow_run(fake_server, "case")
    assert {(r.case, r.status) for r in runs} == {("c0", "cancelled"), ("c1", "ok")}
    assert all(r.output for r in runs if r.case == "c0"), "partial text was dropped"


def test_cancel_all_cancels_running_and_queued_cells(fake_server: FakeOpenAI, fake_provider: str) -> None:
    runs, events = _slow_run(fake_server, "all", cases=3)
    assert [r.status for r in runs] == ["cancelled"] * 6
    assert runs[0].output and not runs[-1].output  # running ones keep text; queued ones never started
    assert len(fake_server.chat_requests()) == 2
    assert [e for e in events if isinstance(e, Progress)][-1].cancelled == 6


def test_cancelling_the_run_call_cancels_its_cells(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=2, models=[("a", "fake", "ma")], cases=1)
    fake_server.default = Reply(text=LONG, tokens_per_s=30)

    async def body(engine: Engine, events: list[EngineEvent]) -> bool:
        task = asyncio.ensure_future(engine.run(proto, RunPlan(use_cache=False), events.append))
        while not any(isinstance(e, CellDelta) for e in events):
            await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return not engine.busy
        return False

    idle, events = run_async(body)
    assert idle
    assert sum(isinstance(e, CellCancelled) for e in events) == 2


def test_cache_answers_a_rerun_unless_asked_not_to(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=2)

    async def body(engine: Engine, events: list[EngineEvent]) -> list[list[Run]]:
        first = await engine.run(proto, RunPlan(), events.append)
        cached = await engine.run(proto, RunPlan(), events.append)
        fresh = await engine.run(proto, RunPlan(use_cache=False), events.append)
        return [first, cached, fresh]

    (first, cached, fresh), events = run_async(body)
    assert [r.cached for r in first] == [False, False]
    assert [r.cached for r in cached] == [True, True]
    assert [r.output for r in cached] == [r.output for r in first]
    assert [r.cached for r in fresh] == [False, False]
    assert len(fake_server.chat_requests()) == 4
    assert sum(isinstance(e, CellStarted) and e.cached for e in events) == 2


def test_concurrent_runs_share_the_global_limit(fake_server: FakeOpenAI, fake_provider: str) -> None:
    proto = make_proto(profiles=1, models=[("a", "fake", "ma")], cases=6)
    fake_server.default = Reply(ttft=0.1)

    async def body(engine: Engine, events: list[EngineEvent]) -> list[list[Run]]:
        return list(await asyncio.gather(
            engine.run(proto, RunPlan(cases=["c0", "c1", "c2"], use_cache=False), events.append),
            engine.run(proto, RunPlan(cases=["c3", "c4", "c5"], use_cache=False), events.append),
        ))

    (one, two), _ = run_async(body, concurrency=2)
    assert [r.case for r in one] == ["c0", "c1", "c2"] and [r.case for r in two] == ["c3", "c4", "c5"]
    assert fake_server.max_in_flight == 2


def test_a_provider_cap_lowers_one_endpoint_limit(fake_server: FakeOpenAI, fake_provider: str) -> None:
    """The bundled model gets 1 by default; any endpoint can be capped the same way."""
    proto = make_proto(profiles=3, models=[("a", "fake", "ma")], cases=2)
    fake_server.default = Reply(ttft=0.05)

    async def body(engine: Engine, events: list[EngineEvent]) -> list[Run]:
        return await engine.run(proto, RunPlan(use_cache=False), events.append)

    runs, _ = run_async(body, provider_caps={"fake": 1})
    assert [r.status for r in runs] == ["ok"] * 6
    assert fake_server.max_in_flight == 1
