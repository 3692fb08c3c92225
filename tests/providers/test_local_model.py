"""The bundled model end to end: llama.cpp's server in a child process, reached through the hub.

These load the real SmolLM2 model (offline). One chat process is shared by the module's tests that
do not break it on purpose; the fault tests start their own.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.prototype import Message, ModelParams, ModelTarget
from app.providers.events import ErrorKind, Finished, StreamEvent, StreamFailed, TextDelta, UsageReport
from app.providers.hub import ProviderHub
from app.providers.local_model import LOCAL_MODEL_ID, LocalModel

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
GREEDY = {"temperature": 0.0, "seed": 7}


@pytest.fixture(scope="module")
def local() -> Iterator[LocalModel]:
    model = LocalModel(slots=4)
    yield model
    model.shutdown()


def target(**params: object) -> ModelTarget:
    return ModelTarget(id="local", provider="local", model=LOCAL_MODEL_ID,
                       params=ModelParams.model_validate({**GREEDY, **params}))


def ask(prompt: str) -> list[Message]:
    return [Message(role="user", content=prompt)]


async def collect(hub: ProviderHub, tgt: ModelTarget, messages: list[Message]) -> list[StreamEvent]:
    return [event async for event in hub.stream(tgt, messages, use_cache=False)]


def run_with_hub(local: LocalModel, scenario):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        hub = ProviderHub(local=local)
        try:
            return await scenario(hub)
        finally:
            await hub.aclose()

    return asyncio.run(main())


def wait_until(condition, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is as good as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


# -- serving ----------------------------------------------------------------------------------------


def test_lists_the_bundled_model_and_answers(local: LocalModel) -> None:
    async def scenario(hub: ProviderHub) -> tuple[list[str], list[StreamEvent]]:
        return await hub.list_models("local"), await collect(hub, target(max_tokens=16), ask("Say hello."))

    models, events = run_with_hub(local, scenario)
    assert models == [LOCAL_MODEL_ID]
    done = events[-1]
    assert isinstance(done, Finished) and done.text.strip()
    assert any(isinstance(e, TextDelta) for e in events)
    usage = [e for e in events if isinstance(e, UsageReport)]
    assert usage and usage[-1].completion_tokens and usage[-1].prompt_tokens
    assert done.finish_reason in ("stop", "length")


def test_a_seed_and_zero_temperature_give_the_same_answer_twice(local: LocalModel) -> None:
    async def scenario(hub: ProviderHub) -> list[str]:
        answers = []
        for _ in range(2):
            done = (await collect(hub, target(max_tokens=24), ask("Name three colours.")))[-1]
            assert isinstance(done, Finished)
            answers.append(done.text)
        return answers

    first, second = run_with_hub(local, scenario)
    assert first == second and first.strip()


def test_the_server_refuses_requests_without_the_session_key(local: LocalModel) -> None:
    lease = asyncio.run(local.acquire())
    request = urllib.request.Request(
        lease.base_url + "/chat/completions", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}).encode())
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 401
    assert lease.api_key and lease.api_key not in " ".join(sys.argv)


def test_four_streams_show_text_before_any_finishes(local: LocalModel) -> None:
    """One process, four slots: continuous batching streams every column at once."""
    first_text: dict[int, float] = {}
    finished: dict[int, float] = {}

    async def one(hub: ProviderHub, index: int) -> None:
        async for event in hub.stream(target(max_tokens=24), ask(f"Write a poem about cat number {index}."),
                                      use_cache=False):
            if isinstance(event, TextDelta) and index not in first_text:
                first_text[index] = time.monotonic()
            if isinstance(event, Finished | StreamFailed):
                assert isinstance(event, Finished), event
                finished[index] = time.monotonic()

    async def scenario(hub: ProviderHub) -> None:
        await asyncio.gather(*(one(hub, i) for i in range(4)))

    run_with_hub(local, scenario)
    assert len(first_text) == 4 and len(finished) == 4
    assert max(first_text.values()) < min(finished.values())
    assert len(local.pids) == 1  # one copy of the weights


def test_a_json_schema_is_enforced(local: LocalModel) -> None:
    schema = {"type": "object", "properties": {"pass": {"type": "boolean"}, "reason": {"type": "string"}},
              "required": ["pass", "reason"], "additionalProperties": False}
    fmt = {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema, "strict": True}}

    async def scenario(hub: ProviderHub) -> list[StreamEvent]:
        return await collect(hub, target(max_tokens=80, response_format=fmt),
                             ask("Is the sky green? Answer as JSON."))

    done = run_with_hub(local, scenario)[-1]
    assert isinstance(done, Finished)
    verdict = json.loads(done.text)
    assert isinstance(verdict["pass"], bool) and isinstance(verdict["reason"], str)


def test_embeddings_are_normalised_fixed_size_and_deterministic(local: LocalModel) -> None:
    async def scenario(hub: ProviderHub) -> tuple[list[list[float]], list[list[float]]]:
        texts = ["a red apple", "a green pear", "a red apple"]
        return (await hub.embed("local", LOCAL_MODEL_ID, texts),
                await hub.embed("local", LOCAL_MODEL_ID, ["a red apple"]))

    vectors, single = run_with_hub(local, scenario)
    assert len({len(v) for v in [*vectors, *single]}) == 1 and len(vectors[0]) > 100
    assert math.isclose(math.fsum(x * x for x in vectors[0]), 1.0, rel_tol=1e-3)
    assert vectors[0] == pytest.approx(vectors[2], abs=1e-4)
    assert vectors[0] == pytest.approx(single[0], abs=1e-4)
    assert vectors[0] != pytest.approx(vectors[1], abs=1e-4)
    assert len(local.pids) == 2  # embeddings come from their own process, started on demand


# -- faults -----------------------------------------------------------------------------------------


def _break_mid_stream(local: LocalModel, how: signal.Signals) -> tuple[list[StreamEvent], list[StreamEvent]]:
    """Stream a long answer, send `how` to the model process after three deltas, then ask again."""
    async def scenario(hub: ProviderHub) -> tuple[list[StreamEvent], list[StreamEvent]]:
        events: list[StreamEvent] = []
        async for event in hub.stream(target(max_tokens=400), ask("Write a long story about a robot."),
                                      use_cache=False):
            events.append(event)
            if isinstance(event, TextDelta) and sum(isinstance(e, TextDelta) for e in events) == 3:
                pid = local.chat_pid
                assert pid is not None
                os.kill(pid, how)
        again = await collect(hub, target(max_tokens=8), ask("Hi!"))
        return events, again

    return run_with_hub(local, scenario)  # type: ignore[no-any-return]


def test_a_segfault_fails_only_the_streams_on_it_names_the_cause_and_restarts() -> None:
    model = LocalModel(slots=2)
    try:
        asyncio.run(model.acquire())
        first_pid = model.chat_pid
        events, again = _break_mid_stream(model, signal.SIGSEGV)
        failure = events[-1]
        assert isinstance(failure, StreamFailed), events[-3:]
        assert failure.kind is ErrorKind.LOCAL_CRASH
        assert "SIGSEGV" in failure.message and "restarts" in failure.message
        assert failure.partial.strip()
        assert isinstance(again[-1], Finished) and again[-1].text
        assert model.chat_pid not in (None, first_pid)
    finally:
        model.shutdown()


def test_a_hung_process_is_detected_killed_and_replaced() -> None:
    model = LocalModel(slots=2, hang_after=2.0)
    try:
        asyncio.run(model.acquire())
        stopped = model.chat_pid
        assert stopped is not None
        started = time.monotonic()
        events, again = _break_mid_stream(model, signal.SIGSTOP)
        failure = events[-1]
        assert isinstance(failure, StreamFailed), events[-3:]
        assert failure.kind is ErrorKind.LOCAL_CRASH
        assert "stopped responding" in failure.message
        assert time.monotonic() - started < 60
        assert wait_until(lambda: not alive(stopped), 10)
        assert isinstance(again[-1], Finished) and again[-1].text
    finally:
        model.shutdown()


def test_shutdown_leaves_no_process_and_is_idempotent() -> None:
    model = LocalModel(slots=1)
    asyncio.run(model.acquire())
    pids = model.pids
    assert len(pids) == 1
    model.shutdown()
    model.shutdown()
    assert not model.is_running() and model.pids == []
    assert wait_until(lambda: not any(alive(pid) for pid in pids), 10)


@pytest.mark.parametrize("stop_child_first", [False, True])
def test_a_killed_app_leaves_no_orphan(tmp_path: Path, stop_child_first: bool) -> None:
    """SIGKILL the parent (no atexit runs): the child goes too, even if it was stopped at the time."""
    script = (
        "import asyncio, sys\n"
        "from app.providers.local_model import LocalModel\n"
        "model = LocalModel(slots=1)\n"
        "asyncio.run(model.acquire())\n"
        "print(model.chat_pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert alive(child)
        if stop_child_first:
            os.kill(child, signal.SIGSTOP)
        parent.kill()
        parent.wait()
        assert wait_until(lambda: not alive(child), 10), "the model process outlived the app"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_the_event_loop_keeps_running_while_the_process_starts() -> None:
    model = LocalModel(slots=1)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def main() -> None:
        ticker = asyncio.create_task(tick())
        await model.acquire()
        ticker.cancel()

    try:
        asyncio.run(main())
    finally:
        model.shutdown()
    assert ticks > 5


def test_ask_works_offline_with_the_bundled_model(tmp_path: Path) -> None:
    env = {**os.environ, "PROTOSTUDIO_HOME": str(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9"}  # any attempt to leave the machine would fail
    command = [sys.executable, "-m", "app.cli", "ask", "--provider", "local", "--max-tokens", "8",
               "--temperature", "0", "Say hello."]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
