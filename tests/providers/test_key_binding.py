"""Keys bind to scheme + host + port: every spelling of the same endpoint shares a key, and no
spelling of another endpoint (plain http on the same port, another port) gets it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI

from app.core.document import load_prototype
from app.core.errors import PrototypeError
from app.core.prototype import Message, ModelTarget
from app.providers.events import ErrorKind, StreamFailed
from app.providers.hub import ProviderHub
from app.providers.keys import KeyStore
from app.providers.registry import Registry, RegistryError, host_of

KEY = "sk-" "binding-test-0123456789abcdef"

SAME_ENDPOINT = [
    ("https://api.example.com/v1", "https://api.example.com:443/v1"),
    ("https://api.example.com/v1", "HTTPS://API.EXAMPLE.COM/v1"),
    ("https://api.example.com/v1", "https://api.example.com./v1"),
    ("https://api.example.com/v1", "https://user@api.example.com/v1"),
    ("http://h.example/v1", "http://h.example:80/v1"),
    ("https://h.example:8443/v1", "https://H.example.:8443/x"),
    ("https://[::1]:9000/v1", "https://[0:0:0:0:0:0:0:1]:9000/v1".replace("0:0:0:0:0:0:0:1", "::1")),
]

OTHER_ENDPOINT = [
    ("https://127.0.0.1:8443/v1", "http://127.0.0.1:8443/v1"),  # the reproduction
    ("https://api.example.com/v1", "http://api.example.com/v1"),
    ("https://api.example.com/v1", "http://api.example.com:443/v1"),
    ("https://api.example.com/v1", "https://api.example.com:8443/v1"),
    ("http://api.example.com:8080/v1", "https://api.example.com:8080/v1"),
    ("https://[::1]:9000/v1", "http://[::1]:9000/v1"),
    ("https://api.example.com/v1", "https://api.example.com.evil.test/v1"),
    ("https://api.example.com/v1", "https://api.example.com\t/v1"),
]


@pytest.mark.parametrize(("a", "b"), SAME_ENDPOINT)
def test_spellings_of_one_endpoint_share_a_key(a: str, b: str) -> None:
    assert host_of(a) == host_of(b)


@pytest.mark.parametrize(("a", "b"), OTHER_ENDPOINT)
def test_other_endpoints_do_not_share_a_key(a: str, b: str) -> None:
    assert host_of(a) != host_of(b)


def test_names_stored_before_scheme_binding_still_match() -> None:
    """https names are unchanged; an old ambiguous `h:P` name can only be used over https."""
    assert host_of("https://api.openai.com/v1") == "api.openai.com"
    assert host_of("https://proxy.example.test:8443/v1") == "proxy.example.test:8443"
    assert host_of("http://localhost:11434/v1") == "http://localhost:11434"
    assert host_of("http://example.com/v1") == "http://example.com:80"


def test_https_key_is_not_sent_to_plain_http_on_the_same_port(memory_keyring: object) -> None:
    """The issue's reproduction: the plain-http server must never receive the https provider's key."""
    with FakeOpenAI(api_key=KEY) as server:
        https_url = server.base_url.replace("http://", "https://")
        Registry().add("realsrv", https_url, key_env="REALSRV_KEY")
        hub = ProviderHub(keys=KeyStore(environ={"REALSRV_KEY": KEY}), timeout=5.0, max_retries=0)
        target = ModelTarget(id="t", provider="realsrv", model="m", base_url=server.base_url)
        assert hub.needs_host_confirmation(target) is not None

        async def go() -> list[object]:
            try:
                return [e async for e in hub.stream(target, [Message(role="user", content="hi")],
                                                    use_cache=False)]
            finally:
                await hub.aclose()

        events = asyncio.run(go())
        assert isinstance(events[-1], StreamFailed)
        assert events[-1].kind is ErrorKind.HOST_NOT_CONFIRMED
        assert all(KEY not in (r.authorization or "") for r in server.requests)


@pytest.mark.parametrize("url", ["https://api.example.com\t/v1", "https://api.exa\nmple.com/v1",
                                 "https://api.example.com /v1", "https://api.example.com\x7f/v1"])
def test_control_characters_are_refused_by_validate_with_a_position(tmp_path: Path, url: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nmodels:\n  - id: m\n    provider: openai\n    model: x\n"
                    f"    base_url: {_yaml_quote(url)}\n", encoding="utf-8")
    with pytest.raises(PrototypeError) as info:
        load_prototype(path)
    problem = info.value.problems[0]
    assert (problem.line, problem.col) == (6, 15)
    assert "control or space character" in problem.message


def test_registry_refuses_control_characters() -> None:
    with pytest.raises(RegistryError, match="control or space character"):
        Registry().add("x", "https://api.example.com\t:8443/v1")


def _yaml_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n")
    return '"' + escaped.replace("\x7f", "\\x7f") + '"'
