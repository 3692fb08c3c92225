"""Reading a chat completion stream's server-sent events as plain dicts.

The `openai` SDK builds a pydantic `ChatCompletionChunk` for every SSE event; profiling
`protostudio run` showed that construction was ~40% of the client's CPU per streamed token
(see bench/README.md). The hub still sends every request through the SDK (auth, request
building, status errors, timeouts) with `with_raw_response`, and reads the body here:
the SSE framing per the spec (`data:` lines joined until a blank line), `[DONE]` ends it, and
an `{"error": ...}` event raises `openai.APIError`, as the SDK's own stream does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai

from app.core import jsontext


async def chunks(response: Any) -> AsyncIterator[dict[str, Any]]:
    """Each event's JSON object from an httpx streaming response, until `[DONE]` or the end.

    Lines are split from the body's bytes here (`\n`, `\r\n` or `\r`, as the SSE spec says) and
    decoded as UTF-8 one whole line at a time, as the SDK's own decoder does: httpx's
    `aiter_lines` stacks a text decoder and a line decoder (two more generators) per read."""
    data: list[str] = []
    pending = b""
    parts = response.aiter_bytes()
    async for part in parts:
        pending += part
        if not pending.endswith((b"\n", b"\r")) and b"\n" not in part and b"\r" not in part:
            continue  # no line ended in this read
        lines = pending.splitlines()
        if pending.endswith(b"\n"):
            pending = b""
        elif pending.endswith(b"\r"):  # maybe the first half of \r\n: decide with the next read
            pending = lines.pop() + b"\r"
        else:
            pending = lines.pop()
        for raw in lines:
            if raw:
                line = raw.decode("utf-8", "replace")
                if line.startswith("data:"):
                    data.append(line[6:] if line.startswith("data: ") else line[5:])
                continue  # `event:`, `id:`, `retry:` and comments carry nothing a chat stream needs
            if not data:
                continue
            payload = "\n".join(data)
            data = []
            if payload == "[DONE]":
                async for _ in parts:  # read to the end of the body so the connection goes back to the pool
                    pass
                return
            event = _decode(payload, response)
            if event is not None:
                yield event
    for raw in pending.splitlines():
        line = raw.decode("utf-8", "replace")
        if line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
    if data and "\n".join(data) != "[DONE]":
        event = _decode("\n".join(data), response)
        if event is not None:
            yield event


def _decode(payload: str, response: Any) -> dict[str, Any] | None:
    event = jsontext.loads(payload)  # broken JSON raises ValueError, as inside the SDK's own stream
    if not isinstance(event, dict):
        return None
    error = event.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise openai.APIError(str(message or "the server reported an error mid-stream"), response.request,
                              body=error)
    return event
