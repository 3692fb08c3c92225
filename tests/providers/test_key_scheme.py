"""A key stored for an https endpoint never goes to its host over plain http, where anyone can read it."""

from __future__ import annotations

import pytest

from app.core.prototype import ModelTarget
from app.providers.hub import ProviderHub
from app.providers.keys import KeyStore
from app.providers.registry import host_of

KEY = "sk-" "test-scheme-0123456789"


def _plain_http_openai() -> ModelTarget:
    return ModelTarget(id="t", provider="openai", model="gpt-4o-mini", base_url="http://api.openai.com/v1")


def test_plain_http_is_another_host_for_keys() -> None:
    assert host_of("http://api.openai.com/v1") != host_of("https://api.openai.com/v1")
    assert host_of("http://localhost:11434/v1") != host_of("https://localhost:11434/v1")


def test_stored_key_is_not_sent_over_plain_http(memory_keyring: object) -> None:
    KeyStore().store("openai", "api.openai.com", KEY)
    hub = ProviderHub()
    target = _plain_http_openai()
    assert hub.resolve(target).key_source == "none"
    assert hub.needs_host_confirmation(target) is not None


def test_env_key_is_not_sent_over_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    hub = ProviderHub()
    assert hub.key_status("openai") == "env"
    target = _plain_http_openai()
    assert hub.resolve(target).key_source == "none"
    assert hub.needs_host_confirmation(target) is not None
