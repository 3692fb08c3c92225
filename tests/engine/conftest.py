"""Engine fixtures: keyless custom providers pointing at loopback fake servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakeserver import FakeOpenAI

from app.providers.registry import Registry


@pytest.fixture
def fake_provider(fake_server: FakeOpenAI) -> str:
    """A keyless custom provider `fake` pointing at the fake server."""
    Registry().add("fake", fake_server.base_url, needs_key=False)
    return "fake"


@pytest.fixture
def second_server() -> Iterator[FakeOpenAI]:
    """Another fake server, for a second provider with its own limit."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def other_provider(second_server: FakeOpenAI) -> str:
    Registry().add("other", second_server.base_url, needs_key=False)
    return "other"
