"""promptfoo provider ids -> Protostudio model targets, for the providers Protostudio ships.

promptfoo names a provider `family:kind:model` (`openai:chat:gpt-4o`, `anthropic:messages:claude-...`,
`ollama:chat:llama3`, `openrouter:meta-llama/llama-3-70b`, ...). Each family promptfoo reaches at a
host one of our built-in providers also uses maps to that provider; every other one (Azure, Bedrock,
HTTP, scripts, ...) is refused with a note that says why, never turned into a target that would send
the requests (and a key) somewhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.core.exports import Endpoint

FAMILIES: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "groq": "groq",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "openrouter": "openrouter",
    "togetherai": "together",
    "together": "together",
    "ollama": "ollama",
    "google": "gemini",
    "gemini": "gemini",
    "vertex": "gemini",
}
"""promptfoo family -> the built-in Protostudio provider serving the same models."""

KINDS = frozenset({"chat", "messages", "completion", "responses"})
"""The middle part of `family:kind:model` ids that still means a chat-style text call."""
_REFUSED_KINDS = frozenset(
    {
        "embedding",
        "embeddings",
        "image",
        "realtime",
        "moderation",
        "transcription",
        "audio",
        "assistant",
        "tts",
        "video",
        "agents",
    }
)

PARAMS = ("temperature", "max_tokens", "top_p", "seed", "stop", "response_format", "tools", "tool_choice")
"""`config` keys that are ModelParams under the same name."""
_ALIASES = {
    "maxOutputTokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "num_predict": "max_tokens",
    "topP": "top_p",
    "stopSequences": "stop",
    "stop_sequences": "stop",
}
_ENDPOINT_KEYS = ("apiBaseUrl", "apiHost", "apiKeyEnvar", "apiKey", "apiKeyRequired", "baseUrl")

_WHY_NOT: dict[str, str] = {
    "azure": "Azure OpenAI needs a per-resource endpoint; add it as a custom provider "
    "(base URL https://RESOURCE.openai.azure.com/openai/v1) and a model target for the deployment",
    "bedrock": "AWS Bedrock is not a built-in Protostudio provider",
    "echo": "promptfoo's echo provider has no Protostudio equivalent",
    "exec": "a shell command cannot be a Protostudio provider",
    "python": "a Python script cannot be a Protostudio provider",
    "file": "a provider file or script cannot be a Protostudio provider",
    "http": "a custom HTTP endpoint is not OpenAI-compatible as far as Protostudio can tell",
    "https": "a custom HTTP endpoint is not OpenAI-compatible as far as Protostudio can tell",
    "webhook": "a webhook cannot be a Protostudio provider",
}


@dataclass
class MappedProvider:
    """A model target's fields (without id), or None, and one note per thing that did not map."""

    target: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)


def model_of(provider_id: str) -> str:
    """`openai:chat:llama3.2:3b` -> `llama3.2:3b`; `openai:gpt-4o` -> `gpt-4o`;
    `openrouter:a/b:free` -> `a/b:free`."""
    parts = provider_id.split(":")
    if len(parts) >= 3 and parts[1] in KINDS | _REFUSED_KINDS:
        return ":".join(parts[2:])
    return ":".join(parts[1:]) if len(parts) >= 2 else provider_id


def kind_of(provider_id: str) -> str:
    parts = provider_id.split(":")
    return parts[1] if len(parts) >= 3 and parts[1] in KINDS | _REFUSED_KINDS else "chat"


def map_provider(pid: str, config: Mapping[str, Any], endpoints: Mapping[str, Endpoint]) -> MappedProvider:
    """The target fields for one promptfoo provider id and its `config`."""
    family = pid.split(":", 1)[0].lower()
    where = f"provider {pid}"
    if family not in FAMILIES:
        why = _WHY_NOT.get(family, f"`{family}` is not a provider Protostudio ships")
        return MappedProvider(None, [f"{where}: not imported ({why})"])
    kind = kind_of(pid)
    model = model_of(pid)
    if kind in _REFUSED_KINDS:
        return MappedProvider(None, [f"{where}: not imported ({kind} models are not chat models)"])
    if not model or (family == "openai" and model in KINDS):
        return MappedProvider(None, [f"{where}: names no model; not imported"])
    notes: list[str] = []
    provider = FAMILIES[family]
    if kind in ("completion", "responses"):
        notes.append(
            f"{where}: imported as a chat model (Protostudio calls chat completions, "
            f"not promptfoo's `{kind}` API)"
        )
    if family == "vertex":
        if not model.startswith("gemini"):
            return MappedProvider(
                None,
                [
                    f"{where}: not imported (only Gemini models on Vertex map to "
                    "Protostudio's Gemini provider)"
                ],
            )
        notes.append(
            f"{where}: Vertex AI is reached through the Gemini API (GEMINI_API_KEY), not Google Cloud"
        )
    base_url = _base_url(family, config)
    key_env = config.get("apiKeyEnvar") if isinstance(config.get("apiKeyEnvar"), str) else None
    if family == "openai":
        provider = _openai_compatible(base_url, key_env, endpoints)
    endpoint = endpoints.get(provider)
    if base_url and endpoint and _same_url(base_url, endpoint.base_url):
        base_url = None
    if config.get("apiKey") not in (None, "", "no-key"):
        notes.append(
            f"{where}: `apiKey` dropped (keys never go in a prototype; store it with "
            "`protostudio providers set-key`)"
        )
    params, param_notes = _params(config, where)
    notes.extend(param_notes)
    target: dict[str, Any] = {"provider": provider, "model": model, "params": params}
    if base_url:
        target["base_url"] = base_url
    if key_env and not (endpoint and endpoint.key_env == key_env):
        target["key_env"] = key_env
        notes.append(
            f"{where}: key env var {key_env} kept for exports; Protostudio reads the key from the "
            f"keychain or the {provider} provider's own variable"
        )
    return MappedProvider(target, notes)


def _base_url(family: str, config: Mapping[str, Any]) -> str | None:
    url = config.get("apiBaseUrl") or config.get("baseUrl")
    host = config.get("apiHost")
    if not isinstance(url, str) and isinstance(host, str) and host:
        url = host if "://" in host else f"https://{host}/v1"
    if not isinstance(url, str) or not url:
        return None
    if family == "ollama" and urlsplit(url).path in ("", "/"):
        url = url.rstrip("/") + "/v1"  # promptfoo talks to Ollama's native API; its OpenAI one is under /v1
    return url


def _openai_compatible(base_url: str | None, key_env: str | None, endpoints: Mapping[str, Endpoint]) -> str:
    """`openai:` with another endpoint: the built-in provider at that URL or with that key variable."""
    if key_env:
        for pid, endpoint in endpoints.items():
            if endpoint.key_env == key_env:
                return pid
    if base_url:
        for pid, endpoint in endpoints.items():
            if _same_url(base_url, endpoint.base_url):
                return pid
    return "openai"


def _params(config: Mapping[str, Any], where: str) -> tuple[dict[str, Any], list[str]]:
    params: dict[str, Any] = {}
    notes: list[str] = []
    flat: dict[str, Any] = dict(config)
    generation = config.get("generationConfig")
    if isinstance(generation, dict):
        flat.pop("generationConfig")
        flat.update({k: v for k, v in generation.items() if k not in flat})
    for key, value in flat.items():
        name = _ALIASES.get(key, key)
        if name in PARAMS:
            params[name] = [value] if name == "stop" and isinstance(value, str) else value
        elif key not in _ENDPOINT_KEYS:
            notes.append(f"{where}: config `{key}` dropped (not a parameter Protostudio sends)")
    return params, notes


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()
