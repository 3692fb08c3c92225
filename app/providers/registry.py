"""Provider definitions as data: every endpoint is an OpenAI-compatible base_url plus how to find its key.

Built-ins ship with the app; custom providers live in `settings_dir()/providers.json` (never in a
prototype file, and never with a key: keys live in the OS keyring, see `keys.py`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.core import jsontext
from app.core.atomic import remove_stale_temps, write_atomic
from app.core.endpoints import key_host, url_problem
from app.core.paths import settings_dir

from .events import ErrorKind, ProviderError

SETTINGS_FILE = "providers.json"
FILE_VERSION = 1
LOCAL_ID = "local"
LOCAL_BASE_URL = "local:"
"""The bundled model has no fixed URL: its child process picks a free loopback port when it starts."""

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ProviderSpec:
    """One endpoint. `key_env` is the env var to fall back on; `needs_key=False` for keyless servers."""

    id: str
    name: str
    base_url: str
    key_env: str | None = None
    needs_key: bool = True
    local: bool = False
    custom: bool = False
    concurrency: int | None = None
    """Requests at once to this endpoint (a custom provider's setting); None: the run's default."""

    @property
    def host(self) -> str:
        return host_of(self.base_url)


BUILTINS: tuple[ProviderSpec, ...] = (
    ProviderSpec(LOCAL_ID, "Bundled SmolLM2 (offline)", LOCAL_BASE_URL, needs_key=False, local=True),
    ProviderSpec("openai", "OpenAI", "https://api.openai.com/v1", "OPENAI_API_KEY"),
    ProviderSpec("anthropic", "Anthropic", "https://api.anthropic.com/v1/", "ANTHROPIC_API_KEY"),
    ProviderSpec("gemini", "Google Gemini", "https://generativelanguage.googleapis.com/v1beta/openai/",
                 "GEMINI_API_KEY"),
    ProviderSpec("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    ProviderSpec("groq", "Groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    ProviderSpec("mistral", "Mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    ProviderSpec("deepseek", "DeepSeek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    ProviderSpec("together", "Together AI", "https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    ProviderSpec("ollama", "Ollama", "http://localhost:11434/v1", "OLLAMA_API_KEY", needs_key=False),
    ProviderSpec("lmstudio", "LM Studio", "http://localhost:1234/v1", "LMSTUDIO_API_KEY", needs_key=False),
    ProviderSpec("vllm", "vLLM", "http://localhost:8000/v1", "VLLM_API_KEY", needs_key=False),
)


def host_of(base_url: str) -> str:
    """The endpoint a key is bound to (scheme + host + port): see `app.core.endpoints.key_host`."""
    return key_host(base_url)


def validate_base_url(base_url: str) -> str:
    """Return the URL if it is an http(s) URL with a host, else raise ValueError saying why."""
    problem = url_problem(base_url.strip())
    if problem is not None:
        raise ValueError(f"base URL must look like https://host/v1 (it {problem})")
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base URL must look like https://host/v1 (got {base_url!r})")
    if parts.username or parts.password:
        raise ValueError("base URL must not contain a user name or password; store keys with set-key")
    if parts.query or parts.fragment:
        raise ValueError("base URL must not contain a query string or fragment")
    return base_url.strip()


def concurrency_settings(registry: Registry) -> dict[str, int]:
    """Provider id -> requests at once, for the providers that set one."""
    try:
        specs = registry.all()
    except RegistryError:
        specs = list(BUILTINS)
    return {spec.id: spec.concurrency for spec in specs if spec.concurrency}


class RegistryError(ValueError):
    """The custom providers file or a requested change is invalid. The message says what to fix."""


class Registry:
    """Built-in plus custom providers. Reads the settings file lazily and rewrites it atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._loaded: tuple[tuple[str, int, int], list[ProviderSpec]] | None = None

    @property
    def path(self) -> Path:
        return self._path or settings_dir() / SETTINGS_FILE

    # -- reading -----------------------------------------------------------------------------------

    def all(self) -> list[ProviderSpec]:
        return [*BUILTINS, *self._custom()]

    def get(self, provider_id: str) -> ProviderSpec:
        for spec in self.all():
            if spec.id == provider_id:
                return spec
        known = ", ".join(s.id for s in self.all())
        raise ProviderError(ErrorKind.UNKNOWN_PROVIDER,
                            f"No provider named {provider_id!r}. Known providers: {known}. "
                            "Add one with `protostudio providers add`.")

    def _custom(self) -> list[ProviderSpec]:
        """Custom providers, re-read only when the file changed (runs resolve targets many times)."""
        path = self.path
        try:
            stat = path.stat()
        except FileNotFoundError:
            return []
        stamp = (str(path), stat.st_mtime_ns, stat.st_size)
        if self._loaded is not None and self._loaded[0] == stamp:
            return list(self._loaded[1])
        specs = self._read(path)
        self._loaded = (stamp, specs)
        return list(specs)

    @staticmethod
    def _read(path: Path) -> list[ProviderSpec]:
        try:
            data = jsontext.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("providers", []), list):
                raise TypeError("expected an object with a 'providers' list")
            return [_spec_from_dict(item) for item in data.get("providers", [])]
        except (ValueError, TypeError, KeyError) as exc:
            raise RegistryError(f"{path} is not a valid providers file ({exc}). Fix or delete it; "
                                "built-in providers still work.") from None

    # -- changing ----------------------------------------------------------------------------------

    def add(self, provider_id: str, base_url: str, *, name: str = "", key_env: str | None = None,
            needs_key: bool = True, concurrency: int | None = None) -> ProviderSpec:
        """Add or replace a custom provider. Built-in ids are reserved."""
        if not _ID_RE.match(provider_id):
            raise RegistryError(f"provider id {provider_id!r} must be lower-case letters, digits, '.', '_' "
                                "or '-' (at most 64)")
        if any(spec.id == provider_id for spec in BUILTINS):
            raise RegistryError(f"{provider_id!r} is a built-in provider; pick another id")
        if key_env is not None and not _ENV_RE.match(key_env):
            raise RegistryError(f"{key_env!r} is not a valid environment variable name")
        try:
            url = validate_base_url(base_url)
        except ValueError as exc:
            raise RegistryError(str(exc)) from None
        if concurrency is not None and concurrency < 1:
            raise RegistryError(f"concurrency must be at least 1, not {concurrency}")
        spec = ProviderSpec(provider_id, name or provider_id, url, key_env, needs_key, custom=True,
                            concurrency=concurrency)
        custom = [s for s in self._custom() if s.id != provider_id]
        self._write([*custom, spec])
        return spec

    def remove(self, provider_id: str) -> None:
        if any(spec.id == provider_id for spec in BUILTINS):
            raise RegistryError(f"{provider_id!r} is a built-in provider and cannot be removed")
        custom = self._custom()
        if not any(s.id == provider_id for s in custom):
            raise RegistryError(f"no custom provider named {provider_id!r}")
        self._write([s for s in custom if s.id != provider_id])

    def _write(self, custom: list[ProviderSpec]) -> None:
        items = [{k: v for k, v in asdict(s).items()
                  if k not in ("local", "custom") and not (k == "concurrency" and v is None)} for s in custom]
        payload = {"version": FILE_VERSION, "providers": items}
        remove_stale_temps(self.path)  # a save killed earlier left its temp file; no one else will
        write_atomic(self.path, (json.dumps(payload, indent=2) + "\n").encode("utf-8"))


def _spec_from_dict(item: object) -> ProviderSpec:
    if not isinstance(item, dict):
        raise TypeError("each provider must be an object")
    provider_id = str(item["id"])
    key_env = item.get("key_env")
    concurrency = item.get("concurrency")
    if concurrency is not None and (isinstance(concurrency, bool) or not isinstance(concurrency, int)
                                    or concurrency < 1):
        raise TypeError(f"concurrency of {provider_id!r} must be a whole number of at least 1")
    return ProviderSpec(
        id=provider_id,
        name=str(item.get("name") or provider_id),
        base_url=validate_base_url(str(item["base_url"])),
        key_env=str(key_env) if key_env else None,
        needs_key=bool(item.get("needs_key", True)),
        custom=True,
        concurrency=concurrency,
    )
