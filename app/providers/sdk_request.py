"""The arguments for `chat.completions.create` that send a request body exactly as we built it.

`create()` runs its keyword arguments through the SDK's type-driven transform (aliases, date and
base64 formats) before sending. For a chat request that walk is an identity on our plain JSON
dicts, yet profiling `protostudio run` put it at ~4 ms of CPU a request, more than the rest of
building the request (see bench/README.md). `extra_body` is the SDK's documented way to send
fields as given: it is merged into the JSON body after the transform, over the typed arguments.
So only `model` and `stream` go through `create()` (it needs them to choose the streaming
response type; `messages` is required, so it gets an empty list that `extra_body` replaces), and
everything else rides in `extra_body`. Auth, headers, timeouts and error mapping are the SDK's,
as before.
"""

from __future__ import annotations

from typing import Any

TYPED = ("model", "stream")
"""The fields `create()` reads itself; everything else is only copied into the body."""

REQUEST_OPTIONS = ("timeout", "extra_headers", "extra_query")
"""The SDK's per-request options: they shape the HTTP call, not the JSON body, so they stay arguments."""


def create_kwargs(body: dict[str, Any]) -> dict[str, Any]:
    """`create(**create_kwargs(body))` sends `body` (a chat request as JSON data) untouched."""
    rest = {key: value for key, value in body.items() if key not in TYPED + REQUEST_OPTIONS}
    kwargs: dict[str, Any] = {key: body[key] for key in TYPED + REQUEST_OPTIONS if key in body}
    kwargs["messages"] = []
    kwargs["extra_body"] = rest
    return kwargs
