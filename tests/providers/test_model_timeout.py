"""A model target's own timeout wins over the app's default, both ways."""

from __future__ import annotations

from fakeserver import FakeOpenAI, Reply
from provider_kit import stream_events, target

from app.providers.events import ErrorKind, Finished, StreamFailed
from app.providers.hub import ProviderHub


def test_a_models_own_timeout_is_used(fake_provider: str, fake_server: FakeOpenAI) -> None:
    slow = Reply(text="one two three", ttft=1.0)
    fake_server.enqueue(slow)
    short = target().model_copy(update={"timeout_s": 0.3})
    done = stream_events(ProviderHub(timeout=30, max_retries=0), short)[-1]
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.TIMEOUT
    fake_server.enqueue(slow)
    longer = target().model_copy(update={"timeout_s": 10.0})
    done = stream_events(ProviderHub(timeout=0.3, max_retries=0), longer)[-1]
    assert isinstance(done, Finished)
