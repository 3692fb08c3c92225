"""Provider definitions as data, custom providers in settings, and the price table."""

from __future__ import annotations

import json

import pytest

from app.core.paths import settings_dir
from app.providers.events import ErrorKind, ProviderError
from app.providers.pricing import Price, PriceError, PriceTable
from app.providers.registry import BUILTINS, Registry, RegistryError, host_of


def test_builtins_cover_the_issue_list() -> None:
    ids = {spec.id for spec in BUILTINS}
    assert ids >= {"local", "openai", "anthropic", "gemini", "openrouter", "groq", "mistral", "deepseek",
                   "together", "ollama", "lmstudio", "vllm"}
    registry = Registry()
    assert registry.get("anthropic").base_url == "https://api.anthropic.com/v1/"
    assert registry.get("gemini").base_url == "https://generativelanguage.googleapis.com/v1beta/openai/"
    assert registry.get("ollama").base_url == "http://localhost:11434/v1"
    assert registry.get("lmstudio").base_url == "http://localhost:1234/v1"
    assert registry.get("vllm").base_url == "http://localhost:8000/v1"
    assert registry.get("openai").key_env == "OPENAI_API_KEY"
    assert not registry.get("local").needs_key and registry.get("local").local


def test_custom_providers_round_trip_through_settings() -> None:
    registry = Registry()
    registry.add("acme", "https://llm.acme.test/v1", name="Acme", key_env="ACME_KEY")
    registry.add("box", "http://10.0.0.5:8080/v1", needs_key=False)
    again = Registry()
    assert again.get("acme").name == "Acme" and again.get("acme").key_env == "ACME_KEY"
    assert again.get("box").host == "http://10.0.0.5:8080" and not again.get("box").needs_key
    data = json.loads((settings_dir() / "providers.json").read_text())
    assert data["version"] == 1 and [p["id"] for p in data["providers"]] == ["acme", "box"]
    again.remove("acme")
    assert [s.id for s in Registry().all() if s.custom] == ["box"]


@pytest.mark.parametrize(("provider_id", "url", "key_env", "needle"), [
    ("openai", "https://x.test/v1", None, "built-in"),
    ("Bad Id", "https://x.test/v1", None, "lower-case"),
    ("ok", "ftp://x.test/v1", None, "https://host/v1"),
    ("ok", "https://user:pw@x.test/v1", None, "password"),
    ("ok", "https://x.test/v1", "NOT A VAR", "environment variable"),
])
def test_bad_custom_providers_are_refused(provider_id: str, url: str, key_env: str | None,
                                          needle: str) -> None:
    with pytest.raises(RegistryError, match=needle):
        Registry().add(provider_id, url, key_env=key_env)
    assert not (settings_dir() / "providers.json").exists()


def test_unknown_provider_and_broken_settings_file() -> None:
    with pytest.raises(ProviderError) as caught:
        Registry().get("nope")
    assert caught.value.kind is ErrorKind.UNKNOWN_PROVIDER
    path = settings_dir() / "providers.json"
    path.write_text("{ broken", encoding="utf-8")
    with pytest.raises(RegistryError, match="not a valid providers file"):
        Registry().all()
    with pytest.raises(RegistryError):
        Registry().add("acme", "https://llm.acme.test/v1")
    assert path.read_text(encoding="utf-8") == "{ broken"  # nothing lost


def test_host_binding_includes_the_port() -> None:
    assert host_of("https://API.OpenAI.com/v1") == "api.openai.com"
    assert host_of("http://localhost:11434/v1") == "http://localhost:11434"
    assert host_of("http://localhost:1234/v1") != host_of("http://localhost:11434/v1")


def test_prices_known_unknown_and_local() -> None:
    table = PriceTable()
    assert table.price("openai", "gpt-4o-mini") == Price(0.15, 0.6)
    assert table.price("openai", "gpt-4o-mini-2024-07-18") == Price(0.15, 0.6)  # dated variant
    assert table.price("anthropic", "claude-3-5-haiku-20241022") == Price(0.8, 4.0)
    assert table.price("openrouter", "openai/gpt-4o") == Price(2.5, 10.0)  # aggregator naming
    assert table.price("fake", "fake-model") is None
    assert table.cost("fake", "fake-model", 100, 100) is None  # unknown, never 0
    assert table.cost("local", "smollm2-135m-instruct", 100, 100) == 0.0
    assert table.cost("openai", "gpt-4o", 1_000_000, 500_000) == pytest.approx(2.5 + 5.0)
    assert table.cost("openai", "gpt-4o", None, 10) is None  # no usage reported: unknown


def test_user_price_overrides_win_and_a_broken_file_is_reported() -> None:
    table = PriceTable()
    table.set_override("fake", "fake-model", 1.0, 2.0)
    table.set_override("openai", "gpt-4o", 3.0, 12.0)
    again = PriceTable()
    assert again.price("fake", "fake-model") == Price(1.0, 2.0)
    assert again.price("openai", "gpt-4o") == Price(3.0, 12.0)
    assert again.problem is None
    (settings_dir() / "prices.json").write_text('{"prices": {"x": {"m": [1]}}}', encoding="utf-8")
    broken = PriceTable()
    assert broken.problem is not None and "prices.x.m" in broken.problem
    assert broken.price("openai", "gpt-4o") == Price(2.5, 10.0)  # shipped prices still work
    with pytest.raises(PriceError):
        broken.set_override("a", "b", 1, 1)  # refuses to overwrite what it cannot read
