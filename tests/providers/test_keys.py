"""Keys: keyring per provider and host, env fallback, no-backend handling, and no key to a foreign host."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest
from fakeserver import FakeOpenAI, Reply
from provider_kit import FAKE_KEY, run, stream_events, user

from app.core.prototype import ModelTarget
from app.providers.events import ErrorKind, Finished, ProviderError, StreamFailed
from app.providers.hub import ProviderHub
from app.providers.keys import SERVICE, KeyStore, NoKeyringError
from app.providers.registry import Registry


@pytest.fixture
def keyed(fake_server: FakeOpenAI) -> str:
    """A provider that needs a key, at the fake server, which checks it."""
    fake_server.api_key = FAKE_KEY
    Registry().add("keyed", fake_server.base_url, key_env="KEYED_API_KEY")
    return "keyed"


def _target(base_url: str | None = None) -> ModelTarget:
    return ModelTarget(id="t", provider="keyed", model="fake-model", base_url=base_url)


def test_keyring_key_is_stored_per_provider_and_host_and_sent(keyed: str, fake_server: FakeOpenAI,
                                                             memory_keyring) -> None:
    host = f"http://127.0.0.1:{fake_server.port}"
    assert KeyStore().store("keyed", host, FAKE_KEY + "\n") == "keyring"
    assert memory_keyring.store == {(SERVICE, f"keyed@{host}"): FAKE_KEY}
    hub = ProviderHub()
    assert hub.key_status("keyed") == "keyring"
    assert hub.resolve(_target()).key_source == "keyring"
    done = stream_events(hub, _target())[-1]
    assert isinstance(done, Finished)
    assert fake_server.chat_requests()[0].authorization == f"Bearer {FAKE_KEY}"


def test_env_var_is_the_fallback(keyed: str, fake_server: FakeOpenAI, monkeypatch) -> None:
    monkeypatch.setenv("KEYED_API_KEY", FAKE_KEY)
    hub = ProviderHub()
    assert hub.key_status("keyed") == "env"
    assert isinstance(stream_events(hub, _target())[-1], Finished)
    assert fake_server.chat_requests()[0].authorization == f"Bearer {FAKE_KEY}"


def test_keyring_wins_over_env(keyed: str, fake_server: FakeOpenAI, monkeypatch) -> None:
    monkeypatch.setenv("KEYED_API_KEY", "sk-" "env-key-should-not-be-used")
    KeyStore().store("keyed", f"http://127.0.0.1:{fake_server.port}", FAKE_KEY)
    assert ProviderHub().key_status("keyed") == "keyring"


def test_no_backend_is_reported_and_a_session_key_works(keyed: str, fake_server: FakeOpenAI) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # conftest restores the previous backend
    keys = KeyStore()
    problem = keys.backend_problem()
    assert problem is not None and "environment variable" in problem and "this session" in problem
    with pytest.raises(NoKeyringError) as caught:
        keys.store("keyed", f"http://127.0.0.1:{fake_server.port}", FAKE_KEY)
    assert FAKE_KEY not in str(caught.value)
    hub = ProviderHub(keys=keys)
    assert hub.key_status("keyed") == "none"  # lookups on a fail backend are a quiet "none"
    host = f"http://127.0.0.1:{fake_server.port}"
    assert keys.store("keyed", host, FAKE_KEY, session_only=True) == "session"
    assert hub.key_status("keyed") == "session"
    assert FAKE_KEY not in repr(keys)
    assert isinstance(stream_events(hub, _target())[-1], Finished)
    assert fake_server.chat_requests()[0].authorization == f"Bearer {FAKE_KEY}"


def test_foreign_base_url_gets_no_stored_key_without_a_yes(keyed: str, fake_server: FakeOpenAI) -> None:
    """A shared file points `keyed` at another host: the key stored for the real host must not go there."""
    with FakeOpenAI() as foreign:
        KeyStore().store("keyed", f"http://127.0.0.1:{fake_server.port}", FAKE_KEY)
        hub = ProviderHub()
        tgt = _target(foreign.base_url.replace("127.0.0.1", "localhost"))
        assert hub.needs_host_confirmation(tgt) == f"http://localhost:{foreign.port}"
        assert hub.resolve(tgt).foreign and hub.resolve(tgt).key_source == "none"
        done = stream_events(hub, tgt)[-1]
        assert isinstance(done, StreamFailed) and done.kind is ErrorKind.HOST_NOT_CONFIRMED
        assert f"http://localhost:{foreign.port}" in done.message
        assert foreign.requests == []  # nothing was sent at all

        hub = ProviderHub()
        hub.allow_host("keyed", f"http://localhost:{foreign.port}")
        assert hub.needs_host_confirmation(tgt) is None
        assert isinstance(stream_events(hub, tgt)[-1], Finished)
        assert foreign.chat_requests()[0].authorization == f"Bearer {FAKE_KEY}"

        # a fresh session forgets the yes
        assert ProviderHub().needs_host_confirmation(tgt) == f"http://localhost:{foreign.port}"


def test_env_key_is_not_sent_to_a_foreign_host_either(keyed: str, monkeypatch) -> None:
    monkeypatch.setenv("KEYED_API_KEY", FAKE_KEY)
    with FakeOpenAI() as foreign:
        hub = ProviderHub()
        tgt = _target(foreign.base_url.replace("127.0.0.1", "localhost"))
        assert hub.needs_host_confirmation(tgt) == f"http://localhost:{foreign.port}"
        assert isinstance(stream_events(hub, tgt)[-1], StreamFailed)
        assert foreign.requests == []


def test_keyless_provider_at_foreign_host_sends_only_a_dummy(fake_server: FakeOpenAI, monkeypatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", FAKE_KEY)
    tgt = ModelTarget(id="t", provider="ollama", model="fake-model", base_url=fake_server.base_url)
    hub = ProviderHub()
    assert hub.needs_host_confirmation(tgt) == f"http://127.0.0.1:{fake_server.port}"
    KeyStore().store("ollama", f"http://127.0.0.1:{fake_server.port}", "sk-" "for-that-host-1234567")
    assert ProviderHub().needs_host_confirmation(tgt) is None  # a key stored for that very host is fine
    monkeypatch.delenv("OLLAMA_API_KEY")
    tgt2 = ModelTarget(id="t", provider="vllm", model="fake-model", base_url=fake_server.base_url)
    hub = ProviderHub()
    assert hub.needs_host_confirmation(tgt2) is None
    assert isinstance(stream_events(hub, tgt2, user())[-1], Finished)
    assert fake_server.chat_requests()[-1].authorization == "Bearer no-key"


def test_list_models_and_embeddings(keyed: str, fake_server: FakeOpenAI) -> None:
    KeyStore().store("keyed", f"http://127.0.0.1:{fake_server.port}", FAKE_KEY)

    async def go() -> tuple[list[str], list[list[float]]]:
        hub = ProviderHub()
        try:
            return await hub.list_models("keyed"), await hub.embed("keyed", "fake-embed", ["a cat", "a dog"])
        finally:
            await hub.aclose()

    names, vectors = run(go())
    assert names == ["fake-judge", "fake-model"]
    assert len(vectors) == 2 and len(vectors[0]) == 64 and vectors[0] != vectors[1]
    assert all(r.authorization == f"Bearer {FAKE_KEY}" for r in fake_server.requests)


def test_list_models_errors_are_provider_errors(keyed: str, fake_server: FakeOpenAI) -> None:
    KeyStore().store("keyed", f"http://127.0.0.1:{fake_server.port}", "sk-" "wrong-000000000000")

    async def go() -> None:
        hub = ProviderHub()
        try:
            await hub.list_models("keyed")
        finally:
            await hub.aclose()

    with pytest.raises(ProviderError) as caught:
        run(go())
    assert caught.value.kind is ErrorKind.AUTH and "sk-wrong" not in str(caught.value)


def test_complete_returns_finished_or_raises(fake_provider: str, fake_server: FakeOpenAI) -> None:
    tgt = ModelTarget(id="t", provider="fake", model="fake-judge")
    fake_server.enqueue(Reply(text="PASS"), Reply(status=404))

    async def go() -> Finished:
        hub = ProviderHub()
        try:
            done = await hub.complete(tgt, user("grade this"))
            with pytest.raises(ProviderError) as caught:
                await hub.complete(tgt, user("another"))
            assert caught.value.kind is ErrorKind.NOT_FOUND
            return done
        finally:
            await hub.aclose()

    assert run(go()).text == "PASS"


def test_local_model_listing_does_not_start_it(fake_server: FakeOpenAI) -> None:
    from provider_kit import FakeLocal

    local = FakeLocal(fake_server.base_url)
    assert run(ProviderHub(local=local).list_models("local")) == ["smollm2-135m-instruct"]
    assert local.started == 0
