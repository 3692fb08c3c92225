"""After a session that used keys everywhere, no file the app wrote and no message contains the key."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Reply
from provider_kit import cli, stream_events, user

from app.core.prototype import ModelTarget
from app.providers.events import Finished, StreamFailed
from app.providers.hub import ProviderHub
from app.providers.keys import KeyStore
from app.providers.pricing import PriceTable
from app.providers.registry import Registry

SECRET = "sk-" "proj-SECRETSCAN-9f8e7d6c5b4a3f2e1d0c"


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_no_key_in_any_file_or_message_after_a_session(fresh_home: Path, fake_server: FakeOpenAI,
                                                      memory_keyring) -> None:
    fake_server.api_key = SECRET
    spec = Registry().add("keyed", fake_server.base_url, key_env="KEYED_SECRET")
    KeyStore().store("keyed", spec.host, SECRET)
    PriceTable().set_override("keyed", "fake-model", 1.0, 2.0)
    tgt = ModelTarget(id="t", provider="keyed", model="fake-model")

    # a normal answer (cached), a server that echoes the key in its error, and a cut stream
    fake_server.enqueue(Reply(text="fine"),
                        Reply(status=500, message=f"upstream failed for key {SECRET}"),
                        Reply(text="a b c d", fault="cut", cut_after=1))
    events = stream_events(ProviderHub(), tgt)
    events += stream_events(ProviderHub(max_retries=0), tgt, user("two"))
    events += stream_events(ProviderHub(), tgt, user("three"))
    assert isinstance(events[-1], StreamFailed)
    assert any(isinstance(e, Finished) and e.cost_usd is not None for e in events)
    assert all(SECRET not in repr(e) for e in events)
    server_error = next(e for e in events if isinstance(e, StreamFailed) and e.status == 500)
    assert "[redacted]" in server_error.message

    # the CLI, with the key in the environment (its keyring is the fail backend)
    env = {"KEYED_SECRET": SECRET}
    asked = cli("ask", "--provider", "keyed", "--model", "fake-model", "from the cli", env=env)
    assert asked.returncode == 0, asked.stderr
    listed = cli("providers", env=env)
    refused = cli("providers", "set-key", "keyed", stdin=SECRET)
    assert refused.returncode == 1
    for result in (asked, listed, refused):
        assert SECRET not in result.stdout + result.stderr

    written = [p for p in fresh_home.rglob("*") if p.is_file()]
    assert any("responses" in p.parts for p in written)  # the scan really covers the cache
    assert any(p.name == "providers.json" for p in written) and any(p.name == "prices.json" for p in written)
    assert _files_containing(fresh_home, SECRET.encode()) == []
    assert fake_server.chat_requests()[0].authorization == f"Bearer {SECRET}"  # it was really used
