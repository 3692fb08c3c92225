"""Which endpoint a key belongs to: scheme + host + port, spelled one way.

A key is stored and looked up under `key_host(base_url)`. Two URLs share a key only when they reach
the same host on the same port with the same scheme, so a key stored for an https endpoint never
goes out over plain http, whatever port the URL names. This lives in core because the provider hub
(sending keys) and the exporters (naming key env vars) must agree on it.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

LOCAL_BASE_URL = "local:"
INVALID_HOST = "<invalid url>"
"""What `key_host` returns for a URL no key may go to: it never equals a provider's own host."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint (control character, whitespace, bad port), else None.

    Python's URL parser silently drops tabs and newlines, while HTTP clients refuse them at send
    time: refusing them here keeps "the host the key is bound to" and "the host we send to" equal.
    """
    for index, char in enumerate(url):
        if ord(char) < 0x20 or ord(char) == 0x7F or char.isspace():
            return f"contains a control or space character ({char!r}) at position {index + 1}"
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError for a port that is not 0..65535
    except ValueError:
        return "has an invalid port"
    return None


@functools.lru_cache(maxsize=1024)  # pure; a big batch asks it about the same few URLs 10,000s of times
def shown_host(name: str) -> str:
    """A `key_host` name for a message, with its scheme always written: "https://h:P" next to
    "http://h:P" (the bare https name read as the same endpoint: "points X at http://h:P, not h:P")."""
    return name if "://" in name or name in ("local", INVALID_HOST) else f"https://{name}"


def key_host(base_url: str) -> str:
    """The name a key is bound to: `host` for https on 443, `host:PORT` for https on another port,
    and `http://host:PORT` for plain http (80 when not written).

    https names are the ones keys were always stored under. Plain http gets its own prefixed name,
    so `https://h:P` and `http://h:P` never share a key, and a name stored before scheme binding
    (ambiguous `h:P`) can only ever be used over https. Host names are lower-cased without a
    trailing dot; IPv6 addresses are bracketed; user info is ignored (it never changes where a
    request goes).
    """
    if base_url == LOCAL_BASE_URL:
        return "local"
    if url_problem(base_url) is not None:
        return INVALID_HOST
    parts = urlsplit(base_url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or scheme not in _DEFAULT_PORTS:
        return INVALID_HOST
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or _DEFAULT_PORTS[scheme]
    if scheme == "https":
        return host if port == 443 else f"{host}:{port}"
    return f"http://{host}:{port}"


def hostname_of(base_url: str) -> str:
    """The bare host name (no port, no brackets), lower-case; '' when there is none."""
    try:
        return (urlsplit(base_url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""
