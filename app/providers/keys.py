"""API keys: the OS keyring first, then a key held in memory for this session, then the provider's env var.

A key is stored per provider *and* host (`openai@api.openai.com`), so a shared prototype that points a
provider at another host never picks up a key stored for the real one. Nothing here writes a key to
disk outside the keyring, and no message or repr contains key material.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from typing import Literal

import keyring
import keyring.backends.fail
import keyring.errors

SERVICE = "protostudio"
LOOKUP_TTL_S = 30.0
"""How long a keyring answer is reused: OS keyrings can take milliseconds per lookup, and a run of
hundreds of cells looks the same key up many times. `store()`/`forget()` refresh it at once."""
KeySource = Literal["keyring", "env", "session", "none"]

NO_BACKEND_MESSAGE = (
    "No OS keyring is available here (keyring reports no usable backend, as on a headless Linux "
    "without a Secret Service). Keys are not written to disk in plain text: set the provider's "
    "environment variable instead, or keep the key in memory for this session only."
)


class NoKeyringError(RuntimeError):
    """There is no keyring backend to store a key in. The message offers the alternatives."""


def username(provider_id: str, host: str) -> str:
    return f"{provider_id}@{host}"


class KeyStore:
    """Looks up and stores keys. `environ` is injectable so tests need not touch os.environ."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        self._session: dict[str, str] = {}
        self._recent: dict[tuple[int, str], tuple[float, str | None]] = {}
        self.generation = 0
        """Bumped by every store/forget, so callers that remember lookups know to look again."""

    def __repr__(self) -> str:  # never show session keys
        return f"KeyStore(session_keys={len(self._session)})"

    # -- backend -----------------------------------------------------------------------------------

    @staticmethod
    def backend_problem() -> str | None:
        """A user-facing sentence when no keyring backend is usable, else None."""
        backend = keyring.get_keyring()
        if isinstance(backend, keyring.backends.fail.Keyring):
            return NO_BACKEND_MESSAGE
        inner = getattr(backend, "backends", None)  # the chainer backend with nothing to chain
        if inner is not None and not inner:
            return NO_BACKEND_MESSAGE
        return None

    # -- lookups -----------------------------------------------------------------------------------

    def lookup(self, provider_id: str, host: str, key_env: str | None) -> tuple[str | None, KeySource]:
        """The key for `provider_id` at `host`, and where it came from. The env var is passed in by the
        caller only when `host` is the provider's own host (a key in OPENAI_API_KEY is for OpenAI)."""
        name = username(provider_id, host)
        stored = self._cached_get(name)
        if stored:
            return stored, "keyring"
        if name in self._session:
            return self._session[name], "session"
        if key_env:
            value = (self._environ if self._environ is not None else os.environ).get(key_env)
            if value:
                return value, "env"
        return None, "none"

    def has_stored(self, provider_id: str, host: str) -> bool:
        name = username(provider_id, host)
        return bool(self._cached_get(name)) or name in self._session

    def _cached_get(self, name: str) -> str | None:
        slot = (id(keyring.get_keyring()), name)  # a swapped backend (tests, settings) is a new slot
        now = time.monotonic()
        hit = self._recent.get(slot)
        if hit is not None and now - hit[0] < LOOKUP_TTL_S:
            return hit[1]
        value = self._keyring_get(name)
        self._recent[slot] = (now, value)
        return value

    @staticmethod
    def _keyring_get(name: str) -> str | None:
        if KeyStore.backend_problem():
            return None
        try:
            return keyring.get_password(SERVICE, name)
        except keyring.errors.KeyringError:
            return None  # locked or broken keyring: behave as if no key were stored

    # -- changes -----------------------------------------------------------------------------------

    def store(self, provider_id: str, host: str, key: str, *, session_only: bool = False) -> KeySource:
        """Keep `key` in the keyring, or in memory when asked. Raises NoKeyringError when there is no
        keyring and `session_only` is False: a key is never silently written anywhere else."""
        key = key.strip()
        if not key:
            raise ValueError("the key is empty")
        name = username(provider_id, host)
        self._recent.clear()
        self.generation += 1
        if session_only:
            self._session[name] = key
            return "session"
        problem = self.backend_problem()
        if problem:
            raise NoKeyringError(problem)
        try:
            keyring.set_password(SERVICE, name, key)
        except keyring.errors.KeyringError as exc:
            raise NoKeyringError(f"The keyring refused the key ({type(exc).__name__}). "
                                 + NO_BACKEND_MESSAGE) from None
        self._session.pop(name, None)
        return "keyring"

    def forget(self, provider_id: str, host: str) -> None:
        name = username(provider_id, host)
        self._session.pop(name, None)
        self._recent.clear()
        self.generation += 1
        if self.backend_problem():
            return
        with contextlib.suppress(keyring.errors.KeyringError):
            keyring.delete_password(SERVICE, name)
