"""The bundled model end to end: its child process, served over HTTP, spoken to with the openai SDK.

These load the real SmolLM2 model (offline). One child is started for the whole module.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator

import openai
import pytest

from app.providers.local_model import LOCAL_MODEL_ID, LocalModel

try:  # openai >= 3 is built on httpx2; older versions on httpx
    from httpx2 import HTTPError
except ImportError:
    from httpx import HTTPError

pytestmark = pytest.mark.integration

GREEDY = {"temperature": 0.0, "seed": 7}


@pytest.fixture(scope="module")
def local() -> Iterator[LocalModel]:
    model = LocalModel()
    yield model
    model.shutdown()


def client_for(local: LocalModel) -> openai.OpenAI:
    return openai.OpenAI(base_url=local.ensure_started_sync(), api_key="unused", max_retries=0, timeout=120)


def ask(local: LocalModel, prompt: str, **params: object) -> openai.types.chat.ChatCompletion:
    with client_for(local) as client:
        return client.chat.completions.create(
            model=LOCAL_MODEL_ID, messages=[{"role": "user", "content": prompt}], **params)  # type: ignore[call-overload]


def health(local: LocalModel) -> dict[str, object]:
    url = local.ensure_started_sync().removesuffix("/v1") + "/health"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)  # type: ignore[no-any-return]


def test_lists_the_bundled_model(local: LocalModel) -> None:
    with client_for(local) as client:
        assert [m.id for m in client.models.list().data] == [LOCAL_MODEL_ID]


def test_answers_a_short_question(local: LocalModel) -> None:
    reply = ask(local, "Reply with two words: what colour is the sky?", max_tokens=16, **GREEDY)
    choice = reply.choices[0]
    assert choice.message.content and any(c.isalpha() for c in choice.message.content)
    assert choice.finish_reason in {"stop", "length"}
    assert reply.usage is not None and reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.model == LOCAL_MODEL_ID


def test_a_seed_and_zero_temperature_give_the_same_answer_twice(local: LocalModel) -> None:
    prompt = "Name three fruits."
    first = ask(local, prompt, max_tokens=40, **GREEDY).choices[0].message.content
    ask(local, "Something else in between, to change the model's cached state.", max_tokens=8)
    second = ask(local, prompt, max_tokens=40, **GREEDY).choices[0].message.content
    assert first and first == second


def test_streams_deltas_a_finish_reason_and_usage(local: LocalModel) -> None:
    with client_for(local) as client:
        stream = client.chat.completions.create(
            model=LOCAL_MODEL_ID, messages=[{"role": "user", "content": "Say hello to the team."}],
            max_tokens=24, stream=True, stream_options={"include_usage": True}, **GREEDY)
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    usage = chunks[-1].usage
    assert text.strip()
    assert finishes in (["stop"], ["length"])
    assert usage is not None and usage.prompt_tokens > 0
    assert 0 < usage.completion_tokens <= 24 + 1


def test_streamed_and_whole_answers_match(local: LocalModel) -> None:
    prompt = "What is a prototype?"
    whole = ask(local, prompt, max_tokens=30, **GREEDY).choices[0].message.content
    with client_for(local) as client:
        stream = client.chat.completions.create(
            model=LOCAL_MODEL_ID, messages=[{"role": "user", "content": prompt}], max_tokens=30, stream=True,
            **GREEDY)
        streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert streamed == whole


def test_concurrent_requests_queue_and_all_succeed(local: LocalModel) -> None:
    base_url = local.ensure_started_sync()

    async def one(client: openai.AsyncOpenAI, prompt: str) -> str:
        stream = await client.chat.completions.create(
            model=LOCAL_MODEL_ID, messages=[{"role": "user", "content": prompt}], max_tokens=20, stream=True,
            **GREEDY)
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    async def both() -> list[str]:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=120)
        async with client:
            return await asyncio.gather(one(client, "Name a colour."), one(client, "Name an animal."),
                                        one(client, "Name a city."))

    answers = asyncio.run(both())
    assert len(answers) == 3 and all(a.strip() for a in answers)


def test_a_client_that_leaves_mid_stream_stops_the_generation(local: LocalModel) -> None:
    before = health(local)
    with client_for(local) as client:
        stream = client.chat.completions.create(
            model=LOCAL_MODEL_ID, messages=[{"role": "user", "content": "Write a long story about a robot."}],
            max_tokens=1000, stream=True, **GREEDY)
        for index, _ in enumerate(stream):
            if index == 3:
                break
        stream.close()
    # Either counter moves once the server is done with that stream: abandoned (stopped early) is the
    # right one; completed would mean it generated all the way to the end for nobody.
    deadline = time.monotonic() + 300
    while True:
        now = health(local)
        if (now["streams_abandoned"], now["streams_completed"]) != (before["streams_abandoned"],
                                                                    before["streams_completed"]):
            break
        assert time.monotonic() < deadline, "the server never finished with the abandoned stream"
        time.sleep(0.05)
    assert now["streams_abandoned"] == before["streams_abandoned"] + 1  # type: ignore[operator]
    assert now["streams_completed"] == before["streams_completed"]


def test_unknown_model_and_overlong_prompt_get_clear_errors(local: LocalModel) -> None:
    with client_for(local) as client:
        with pytest.raises(openai.NotFoundError, match=LOCAL_MODEL_ID):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model=LOCAL_MODEL_ID, stream=True,
                                           messages=[{"role": "user", "content": "word " * 3000}])
    assert caught.value.code == "context_length_exceeded"


def test_embeddings_have_fixed_dimensions_and_are_deterministic(local: LocalModel) -> None:
    with client_for(local) as client:
        texts = ["a red apple", "a green pear", "a red apple"]
        vectors = [d.embedding for d in client.embeddings.create(model=LOCAL_MODEL_ID, input=texts).data]
        single = client.embeddings.create(model=LOCAL_MODEL_ID, input="a red apple").data[0].embedding
    assert len({len(v) for v in [*vectors, single]}) == 1
    assert len(vectors[0]) > 100
    assert math.isclose(math.fsum(x * x for x in vectors[0]), 1.0, rel_tol=1e-3)
    assert vectors[0] == pytest.approx(vectors[2], abs=1e-4)
    assert vectors[0] == pytest.approx(single, abs=1e-4)
    assert vectors[0] != pytest.approx(vectors[1], abs=1e-4)


def test_a_child_killed_mid_stream_fails_that_stream_and_restarts_on_next_use(local: LocalModel) -> None:
    local.ensure_started_sync()
    first_pid = local.pid
    assert first_pid is not None
    received: list[str] = []
    with client_for(local) as client:
        stream = client.chat.completions.create(
            model=LOCAL_MODEL_ID, messages=[{"role": "user", "content": "Write a long story about a robot."}],
            max_tokens=1000, stream=True, **GREEDY)
        with pytest.raises((HTTPError, openai.APIError)):
            for chunk in stream:
                received.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
                if len(received) == 3:
                    os.kill(first_pid, signal.SIGKILL)
    assert len(received) >= 3
    assert local.crashed(grace=5.0)
    assert local.last_exit_description() == "killed by signal SIGKILL (9)"
    assert "crashed (killed by signal SIGKILL (9))" in local.crash_message()

    reply = ask(local, "Reply with one word: hello.", max_tokens=8, **GREEDY)
    assert reply.choices[0].message.content
    assert local.pid not in (None, first_pid)
    assert not local.crashed()


def test_through_the_hub_a_crash_is_a_clear_error_with_the_partial_text_and_then_recovers(
        local: LocalModel) -> None:
    from app.core.prototype import Message, ModelParams, ModelTarget
    from app.providers.events import ErrorKind, Finished, StreamFailed, TextDelta
    from app.providers.hub import ProviderHub

    params = ModelParams(temperature=0.0, seed=7, max_tokens=1000)
    target = ModelTarget(id="local", provider="local", model=LOCAL_MODEL_ID, params=params)
    story = [Message(role="user", content="Write a long story about a robot.")]

    async def scenario() -> tuple[list[object], list[object]]:
        hub = ProviderHub(local=local)
        try:
            crashed: list[object] = []
            async for event in hub.stream(target, story, use_cache=False):
                crashed.append(event)
                if isinstance(event, TextDelta) and sum(isinstance(e, TextDelta) for e in crashed) == 3:
                    pid = local.pid
                    assert pid, "the child is not running"
                    os.kill(pid, signal.SIGKILL)
            short = ModelTarget(id="local", provider="local", model=LOCAL_MODEL_ID,
                                params=ModelParams(temperature=0.0, seed=7, max_tokens=8))
            hello = [Message(role="user", content="Hi!")]
            again = [e async for e in hub.stream(short, hello, use_cache=False)]
            return crashed, again
        finally:
            await hub.aclose()

    local.ensure_started_sync()
    crashed, again = asyncio.run(scenario())
    failure = crashed[-1]
    assert isinstance(failure, StreamFailed), crashed[-3:]
    assert failure.kind is ErrorKind.LOCAL_CRASH
    assert "SIGKILL" in failure.message
    assert failure.partial.strip()
    assert isinstance(again[-1], Finished) and again[-1].text


def test_concurrent_starts_share_one_child_and_shutdown_leaves_no_process() -> None:
    model = LocalModel()

    async def start_twice() -> tuple[str, str]:
        first, second = await asyncio.gather(model.ensure_started(), model.ensure_started())
        return first, second

    urls = asyncio.run(start_twice())
    assert urls[0] == urls[1]
    pid = model.pid
    assert pid is not None and model.is_running()
    model.shutdown()
    model.shutdown()  # idempotent
    assert not model.is_running() and model.pid is None and not model.crashed()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_event_loop_keeps_running_while_the_child_starts() -> None:
    model = LocalModel()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def main() -> None:
        ticker = asyncio.create_task(tick())
        await model.ensure_started()
        ticker.cancel()

    try:
        asyncio.run(main())
    finally:
        model.shutdown()
    assert ticks > 5
    assert not any(t.name.startswith("local-model") and not t.daemon for t in threading.enumerate())


def test_the_model_loads_without_extra_buffer_types() -> None:
    """The guard against the AMX/repack segfault reaches llama.cpp, and only for our load."""
    import llama_cpp.llama_cpp as lib

    from app.providers.local_server import load_llama
    from app.providers.model_files import bundled_model_path

    defaults = lib.llama_model_default_params
    llm = load_llama(bundled_model_path(), n_ctx=256, threads=1)
    try:
        assert llm.model_params.use_extra_bufts is False
        assert lib.llama_model_default_params is defaults
    finally:
        llm.close()


# -- the pool: several children, so several columns stream at once ------------------------------------


def _hub_target(max_tokens: int) -> object:
    from app.core.prototype import ModelParams, ModelTarget

    return ModelTarget(id="local", provider="local", model=LOCAL_MODEL_ID,
                       params=ModelParams(temperature=0.0, seed=7, max_tokens=max_tokens))


async def _consume(hub: object, max_tokens: int, prompt: str, first: asyncio.Event | None = None,
                   stop: asyncio.Event | None = None) -> list[object]:
    """Every event of one hub stream; sets `first` at its first text, leaves early once `stop` is set."""
    from app.core.prototype import Message
    from app.providers.events import TextDelta

    events: list[object] = []
    stream = hub.stream(_hub_target(max_tokens), [Message(role="user", content=prompt)],  # type: ignore[attr-defined]
                        use_cache=False)
    async for event in stream:
        events.append(event)
        if isinstance(event, TextDelta):
            if first is not None:
                first.set()
            if stop is not None and stop.is_set():
                break
    await stream.aclose()
    return events


def _health_of(base_url: str) -> dict[str, object]:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/health", timeout=30) as response:
        return json.load(response)  # type: ignore[no-any-return]


def test_two_streams_through_the_hub_are_generated_by_two_children_at_once() -> None:
    from app.providers.hub import ProviderHub

    pool = LocalModel(workers=2)

    async def scenario() -> tuple[list[int], list[dict[str, object]]]:
        hub = ProviderHub(local=pool)
        firsts = [asyncio.Event(), asyncio.Event()]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_consume(hub, 400, prompt, first, stop)) for prompt, first in
                 zip(("Write a long story about a robot.", "Write a long story about a cat."), firsts,
                     strict=True)]
        try:
            await asyncio.wait_for(asyncio.gather(*(f.wait() for f in firsts)), 180)
            # Both streams are mid-answer now: ask each child itself whether it is generating.
            states = [await asyncio.to_thread(_health_of, url) for url in pool.base_urls]
            return pool.pids, states
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await hub.aclose()

    try:
        pids, states = asyncio.run(scenario())
    finally:
        pool.shutdown()
    assert len(set(pids)) == 2
    assert [state["busy"] for state in states] == [True, True]


def test_killing_one_child_mid_stream_fails_only_its_request() -> None:
    from app.providers.events import ErrorKind, Finished, StreamFailed
    from app.providers.hub import ProviderHub

    pool = LocalModel(workers=2)

    async def scenario() -> tuple[list[object], list[object], int, int, list[object]]:
        hub = ProviderHub(local=pool)
        try:
            a_first, b_first = asyncio.Event(), asyncio.Event()
            a = asyncio.create_task(_consume(hub, 1000, "Write a long story about a robot.", a_first))
            await asyncio.wait_for(a_first.wait(), 180)
            [a_pid] = pool.pids  # only the first child has started so far
            b = asyncio.create_task(_consume(hub, 60, "Write a short poem about rain.", b_first))
            await asyncio.wait_for(b_first.wait(), 180)
            [b_pid] = [pid for pid in pool.pids if pid != a_pid]
            os.kill(a_pid, signal.SIGKILL)
            a_events, b_events = await asyncio.gather(a, b)
            # The next two requests at once use both children again: the killed one restarts.
            again = await asyncio.gather(_consume(hub, 8, "Hi!"), _consume(hub, 8, "Hello!"))
            return a_events, b_events, a_pid, b_pid, [events[-1] for events in again]
        finally:
            await hub.aclose()

    try:
        a_events, b_events, a_pid, b_pid, again = asyncio.run(scenario())
        pids_after = pool.pids
    finally:
        pool.shutdown()
    failure = a_events[-1]
    assert isinstance(failure, StreamFailed), a_events[-3:]
    assert failure.kind is ErrorKind.LOCAL_CRASH
    assert "SIGKILL" in failure.message and "restarts" in failure.message
    assert failure.partial.strip()
    assert isinstance(b_events[-1], Finished) and b_events[-1].text.strip()
    assert all(isinstance(event, Finished) for event in again), again
    assert b_pid in pids_after and a_pid not in pids_after and len(pids_after) == 2


def test_shutdown_of_a_pool_leaves_no_child_process() -> None:
    pool = LocalModel(workers=2)

    async def start_both() -> list[str]:
        leases = await asyncio.gather(pool.acquire(), pool.acquire())
        for lease in leases:
            lease.release()
        return [lease.base_url for lease in leases]

    urls = asyncio.run(start_both())
    pids = pool.pids
    assert len(set(urls)) == 2 and len(set(pids)) == 2
    pool.shutdown()
    pool.shutdown()  # idempotent
    assert not pool.is_running() and pool.pids == [] and not pool.crashed()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
