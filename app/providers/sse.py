"""Reading a chat completion stream's server-sent events as plain dicts.

The `openai` SDK builds a pydantic `ChatCompletionChunk` for every SSE event; profiling
`protostudio run` showed that construction was ~40% of the client's CPU per streamed token
(see bench/README.md). The hub still sends every request through the SDK (auth, request
building, status errors, timeouts) with `with_raw_response`, and reads the body here:
the SSE framing per the spec (`data:` lines joined until a blank line), `[DONE]` ends it, and
an `{"error": ...}` event raises `openai.APIError`, as the SDK's own stream does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai


async def chunks(response: Any) -> AsyncIterator[dict[str, Any]]:
    """Each event's JSON object from an httpx streaming response, until `[DONE]` or the end."""
    data: list[str] = []
    lines = response.aiter_lines()
    async for line in lines:
        if line:
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith("data: ") else line[5:])
            continue  # `event:`, `id:`, `retry:` and comments carry nothing a chat stream needs
        if not data:
            continue
        payload = "\n".join(data)
        data = []
        if payload == "[DONE]":
            async for _ in lines:  # read to the end of the body so the connection goes back to the pool
                pass
            return
        event = _decode(payload, response)
        if event is not None:
            yield event
    if data and "\n".join(data) != "[DONE]":
        event = _decode("\n".join(data), response)
        if event is not None:
            yield event


def _decode(payload: str, response: Any) -> dict[str, Any] | None:
    event = json.loads(payload)  # broken JSON raises ValueError, as inside the SDK's own stream
    if not isinstance(event, dict):
        return None
    error = event.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise openai.APIError(str(message or "the server reported an error mid-stream"), response.request,
                              body=error)
    return event
