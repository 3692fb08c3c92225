"""The response cache: hits replay the answer, explicit re-runs bypass it, errors are never stored."""

from __future__ import annotations

from fakeserver import FakeOpenAI, Reply
from provider_kit import stream_events, target, user

from app.core.prototype import Message
from app.providers.cache import CachedAnswer, ResponseCache, cache_key
from app.providers.events import Finished, Started, StreamFailed, TextDelta
from app.providers.hub import ProviderHub


def test_second_identical_request_is_a_hit(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(text="first answer"))
    first = stream_events(hub, target(temperature=0))
    second = stream_events(ProviderHub(), target(temperature=0))
    assert len(fake_server.chat_requests()) == 1
    assert second[0] == Started(cached=True)
    assert second[1] == TextDelta("first answer")
    done, original = second[-1], first[-1]
    assert isinstance(done, Finished) and isinstance(original, Finished)
    assert done.cached and not original.cached
    assert (done.text, done.finish_reason, done.completion_tokens) == ("first answer", "stop", 2)
    assert done.ttft_s == original.ttft_s  # re-opening shows the figures of the real run


def test_any_change_in_messages_params_or_model_misses(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    stream_events(hub, target(temperature=0))
    stream_events(ProviderHub(), target(temperature=0.5))
    stream_events(ProviderHub(), target(model="fake-judge", temperature=0))
    stream_events(ProviderHub(), target(temperature=0), user("something else"))
    system = [Message(role="system", content="Be brief."), *user()]
    stream_events(ProviderHub(), target(temperature=0), system)
    assert len(fake_server.chat_requests()) == 5


def test_explicit_rerun_bypasses_and_refreshes(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(text="old"), Reply(text="new"))
    stream_events(hub, target())
    rerun = stream_events(ProviderHub(), target(), use_cache=False)
    assert isinstance(rerun[-1], Finished) and rerun[-1].text == "new" and not rerun[-1].cached
    reopened = stream_events(ProviderHub(), target())
    assert isinstance(reopened[-1], Finished) and reopened[-1].text == "new" and reopened[-1].cached
    assert len(fake_server.chat_requests()) == 2


def test_errors_and_cut_answers_are_never_cached(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(status=404), Reply(text="a b c d e f", fault="cut", cut_after=2),
                        Reply(text="ok"))
    assert isinstance(stream_events(hub, target())[-1], StreamFailed)
    assert isinstance(stream_events(ProviderHub(), target())[-1], StreamFailed)
    assert not list(ProviderHub().cache.root.glob("*/*.json"))
    done = stream_events(ProviderHub(), target())[-1]
    assert isinstance(done, Finished) and done.text == "ok" and not done.cached
    assert len(fake_server.chat_requests()) == 3


def test_corrupted_entry_is_a_miss_and_gets_rewritten(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    stream_events(hub, target())
    (entry,) = list(hub.cache.root.glob("*/*.json"))
    entry.write_text("{ not json", encoding="utf-8")
    done = stream_events(ProviderHub(), target())[-1]
    assert isinstance(done, Finished) and not done.cached
    assert len(fake_server.chat_requests()) == 2
    assert ResponseCache().get(entry.stem) is not None


def test_key_is_canonical_and_ignores_unset_params(tmp_path) -> None:
    msgs = [{"role": "user", "content": "hi"}]
    assert cache_key("u", "m", {"temperature": None}, msgs) == cache_key("u", "m", {}, msgs)
    assert cache_key("u", "m", {"a": 1, "b": 2}, msgs) == cache_key("u", "m", {"b": 2, "a": 1}, msgs)
    assert cache_key("u", "m", {}, msgs) != cache_key("v", "m", {}, msgs)
    cache = ResponseCache(tmp_path)
    cache.put("ab" * 32, CachedAnswer("text", "stop", 1, 2, 0.1, 0.2))
    assert cache.get("ab" * 32) == CachedAnswer("text", "stop", 1, 2, 0.1, 0.2)
    assert cache.get("cd" * 32) is None
    assert cache.clear() == 1 and cache.get("ab" * 32) is None
