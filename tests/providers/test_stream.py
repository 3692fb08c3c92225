"""Streaming against the loopback fake server: normal answers, every fault, retries and cancellation."""

from __future__ import annotations

import asyncio
import contextlib

from fakeserver import FakeOpenAI, Reply
from provider_kit import FakeLease, FakeLocal, stream_events, target, user, wait_until

from app.core.prototype import ModelTarget
from app.providers.events import ErrorKind, Finished, Started, StreamFailed, TextDelta, UsageReport
from app.providers.hub import ProviderHub


def _last(events: list) -> Finished | StreamFailed:
    assert isinstance(events[0], Started)
    ends = [e for e in events if isinstance(e, Finished | StreamFailed)]
    assert len(ends) == 1 and events[-1] is ends[0]
    return ends[0]


def _text(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_normal_stream_yields_deltas_usage_and_timings(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(text="Hello there, designer.", ttft=0.05))
    events = stream_events(hub, target(temperature=0.0, max_tokens=50, seed=7))
    done = _last(events)
    assert isinstance(done, Finished)
    assert done.text == "Hello there, designer." == _text(events)
    assert len([e for e in events if isinstance(e, TextDelta)]) > 1
    assert done.finish_reason == "stop"
    assert done.ttft_s is not None and done.ttft_s >= 0.05
    assert done.latency_s >= done.ttft_s
    usage = [e for e in events if isinstance(e, UsageReport)]
    assert usage == [UsageReport(prompt_tokens=2, completion_tokens=3)]
    assert (done.prompt_tokens, done.completion_tokens) == (2, 3)
    assert done.cost_usd is None  # fake-model has no price: unknown, not 0
    assert not done.cached
    body = fake_server.chat_requests()[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.0, 50, 7)
    assert "top_p" not in body  # unset params are left to the endpoint


def test_endpoint_rejecting_stream_options_is_retried_without_them(hub: ProviderHub,
                                                                   fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(status=400, code="invalid_request_error",
                              message="Unrecognized request argument supplied: stream_options"),
                        Reply(text="fine"))
    done = _last(stream_events(hub, target()))
    assert isinstance(done, Finished) and done.text == "fine"
    first, second = fake_server.chat_requests()
    assert "stream_options" in first.body and "stream_options" not in second.body


def test_429_waits_for_retry_after_then_retries(fake_provider: str, fake_server: FakeOpenAI) -> None:
    waits: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    hub = ProviderHub(max_retries=2, max_retry_wait=5.0, sleep=recording_sleep)
    fake_server.enqueue(Reply(status=429, retry_after=0.3), Reply(text="after the wait"))
    done = _last(stream_events(hub, target()))
    assert isinstance(done, Finished) and done.text == "after the wait"
    first, second = fake_server.chat_requests()
    assert waits == [0.3]
    assert second.at - first.at >= 0.3  # the retry came after the header's wait


def test_429_with_wait_beyond_the_bound_fails_at_once(fake_provider: str, fake_server: FakeOpenAI) -> None:
    hub = ProviderHub(max_retries=2, max_retry_wait=5.0)
    fake_server.enqueue(Reply(status=429, retry_after=120))
    done = _last(stream_events(hub, target()))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.RATE_LIMITED
    assert done.retry_after == 120 and "120 s" in done.message
    assert len(fake_server.chat_requests()) == 1


def test_500_is_retried_then_reported(fake_provider: str, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(status=500), Reply(text="recovered"))
    done = _last(stream_events(ProviderHub(max_retries=1, max_retry_wait=0.1), target()))
    assert isinstance(done, Finished) and done.text == "recovered"

    fake_server.reset()
    fake_server.default = Reply(status=500)
    done = _last(stream_events(ProviderHub(max_retries=1, max_retry_wait=0.1), target(), use_cache=False))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.SERVER and done.status == 500
    assert len(fake_server.chat_requests()) == 2


def test_cut_mid_answer_keeps_partial_text(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(text="one two three four five six", fault="cut", cut_after=3))
    events = stream_events(hub, target())
    done = _last(events)
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.CUT
    assert done.partial == "one two three" == _text(events)
    assert "partial" in done.message
    assert len(fake_server.chat_requests()) == 1  # never retried once text has arrived


def test_malformed_sse_fails_cleanly(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(fault="malformed"))
    done = _last(stream_events(hub, target()))
    assert isinstance(done, StreamFailed) and done.kind in (ErrorKind.CUT, ErrorKind.UNKNOWN)
    assert "malformed" in done.message


def test_hang_times_out(fake_provider: str, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(fault="hang"))
    done = _last(stream_events(ProviderHub(timeout=0.5, max_retries=0), target()))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.TIMEOUT


def test_401_is_an_auth_error_that_says_where_to_fix_it(fake_server: FakeOpenAI, memory_keyring) -> None:
    from app.providers.keys import KeyStore
    from app.providers.registry import Registry

    fake_server.api_key = "the-right-one"
    spec = Registry().add("keyed", fake_server.base_url, key_env="KEYED_API_KEY")
    KeyStore().store("keyed", spec.host, "sk-wrong-key-123456789")
    done = _last(stream_events(ProviderHub(max_retries=0), target("keyed")))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.AUTH and done.status == 401
    assert "Settings > Providers" in done.message and "sk-wrong" not in done.message


def test_missing_key_fails_before_sending(fake_server: FakeOpenAI) -> None:
    from app.providers.registry import Registry

    Registry().add("keyed", fake_server.base_url, key_env="KEYED_API_KEY")
    done = _last(stream_events(ProviderHub(), target("keyed")))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.AUTH
    assert "KEYED_API_KEY" in done.message and "set-key keyed" in done.message
    assert fake_server.requests == []


def test_unknown_model_and_too_long_context(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(status=404))
    done = _last(stream_events(hub, target(model="nope")))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.NOT_FOUND and "'nope'" in done.message

    fake_server.enqueue(Reply(status=400, code="context_length_exceeded",
                              message="This model's maximum context length is 8192 tokens."))
    done = _last(stream_events(ProviderHub(), target()))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.CONTEXT_TOO_LONG


def test_unreachable_endpoint_names_the_host(fake_server: FakeOpenAI) -> None:
    from app.providers.registry import Registry

    fake_server.stop()
    Registry().add("gone", fake_server.base_url, needs_key=False)
    done = _last(stream_events(ProviderHub(max_retries=0), target("gone")))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.UNREACHABLE
    assert f"127.0.0.1:{fake_server.port}" in done.message


def test_unknown_provider_fails_with_known_ids() -> None:
    done = _last(stream_events(ProviderHub(), target("nosuch")))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.UNKNOWN_PROVIDER
    assert "openai" in done.message


def test_cancelling_the_consumer_closes_the_connection(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(text="word " * 400, tokens_per_s=20))

    async def go() -> list:
        seen: list = []
        first = asyncio.Event()

        async def consume() -> None:
            async for event in hub.stream(target(), user()):
                seen.append(event)
                if isinstance(event, TextDelta):
                    first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 5)
        assert fake_server.in_flight == 1
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # the server notices the client is gone on its next write (50 ms apart), long before 20 s of text
        gone = await asyncio.to_thread(wait_until, lambda: fake_server.in_flight == 0, 5.0)
        await hub.aclose()
        assert gone, "the HTTP connection stayed open after cancellation"
        return seen

    seen = asyncio.run(go())
    assert not any(isinstance(e, Finished | StreamFailed) for e in seen)
    assert hub.cache.root.exists() is False or not list(hub.cache.root.glob("*/*.json"))


def test_breaking_out_of_the_stream_closes_the_connection(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(text="word " * 400, tokens_per_s=20))

    async def go() -> bool:
        events = hub.stream(target(), user())
        async for event in events:
            if isinstance(event, TextDelta):
                break
        await events.aclose()
        gone = await asyncio.to_thread(wait_until, lambda: fake_server.in_flight == 0, 5.0)
        await hub.aclose()
        return gone

    assert asyncio.run(go())


def test_local_provider_uses_the_injected_model_and_maps_a_crash(fake_server: FakeOpenAI) -> None:
    local = FakeLocal(fake_server.base_url)
    hub = ProviderHub(local=local, max_retries=2)
    fake_server.enqueue(Reply(text="hi from local"))
    done = _last(stream_events(hub, target("local", "smollm2-135m-instruct")))
    assert isinstance(done, Finished) and done.text == "hi from local"
    assert done.cost_usd == 0.0  # the bundled model is free, and known to be
    assert fake_server.chat_requests()[0].authorization == "Bearer session-key-for-test"

    local.dead = True  # the child "died": the cut connection is reported as a crash, not retried
    fake_server.enqueue(Reply(text="one two three four", fault="cut", cut_after=2))
    hub = ProviderHub(local=local)
    local_acquire = local.acquire

    async def keep_dead(*, embedding: bool = False) -> FakeLease:
        lease = await local_acquire(embedding=embedding)
        local.dead = True
        return lease

    local.acquire = keep_dead  # type: ignore[method-assign]
    done = _last(stream_events(hub, target("local", "smollm2-135m-instruct"), use_cache=False))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.LOCAL_CRASH
    assert "SIGSEGV" in done.message and "restarts on the next run" in done.message
    assert done.partial == "one two"


def test_base_url_override_sends_to_that_endpoint(fake_server: FakeOpenAI) -> None:
    from app.providers.registry import Registry

    Registry().add("elsewhere", "http://127.0.0.1:9/v1", needs_key=False)
    tgt = ModelTarget(id="t", provider="elsewhere", model="fake-model", base_url=fake_server.base_url)
    fake_server.enqueue(Reply(text="here"))
    done = _last(stream_events(ProviderHub(), tgt))
    assert isinstance(done, Finished) and done.text == "here"


def test_a_broken_providers_file_fails_the_stream_instead_of_raising() -> None:
    from app.core.paths import settings_dir

    (settings_dir() / "providers.json").write_text("{ nope", encoding="utf-8")
    done = _last(stream_events(ProviderHub(), target("openai", "gpt-4o")))
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.UNKNOWN_PROVIDER
    assert "providers.json" in done.message
