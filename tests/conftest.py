"""Shared fixtures: every test gets a fresh PROTOSTUDIO_HOME, an in-memory keyring, and offscreen Qt."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))

from fakeserver import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent
PROTOTYPES = ROOT / "prototypes"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in a dict, so tests never touch the real OS keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def fresh_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new PROTOSTUDIO_HOME per test, and no provider keys leaking in from the environment."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("PROTOSTUDIO_HOME", str(home))
    monkeypatch.delenv("PROTOSTUDIO_RATER", raising=False)
    for name in list(os.environ):
        if name.endswith("_API_KEY"):
            monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def _no_dangling_threads() -> Iterator[None]:
    """Fail a test that leaves a non-daemon thread running."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    for thread in leftover:
        thread.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"test left threads running: {still}"


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    """A scriptable OpenAI-compatible server on loopback."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def prototypes_dir() -> Path:
    return PROTOTYPES
