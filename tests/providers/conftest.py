"""Fixtures for provider tests: a hub wired to the loopback fake server through a custom provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakeserver import FakeOpenAI

from app.providers.hub import ProviderHub
from app.providers.registry import Registry


@pytest.fixture
def fake_provider(fake_server: FakeOpenAI) -> str:
    """A keyless custom provider `fake` pointing at the fake server."""
    Registry().add("fake", fake_server.base_url, key_env="FAKE_API_KEY", needs_key=False)
    return "fake"


@pytest.fixture
def hub(fake_provider: str) -> Iterator[ProviderHub]:
    yield ProviderHub(timeout=5.0, max_retries=2, max_retry_wait=5.0)
