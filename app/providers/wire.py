"""Messages as the OpenAI chat API wants them, and as the response cache names them.

A plain message is `{role, content}` on the wire and in the cache key, exactly as before tools and
images existed, so old cache entries still answer. A user message with images sends its text and one
`image_url` data-URL part per image (the cache names each image by the sha256 of its bytes, not its
path); an assistant message with tool calls carries them in OpenAI's shape, and a `tool` message
names the call it answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.images import load_image
from app.core.prototype import Message, ToolCall

from .events import StreamedCall


@dataclass
class CallAssembler:
    """Joins streamed `tool_calls` deltas (index, id, function.name, function.arguments fragments)."""

    calls: dict[int, dict[str, str]] = field(default_factory=dict)

    def add(self, delta: Any) -> tuple[int, str, str, str] | None:
        """Take one delta; returns (index, id, name, arguments fragment) to report, or None."""
        if not isinstance(delta, dict):
            return None
        index = delta.get("index")
        index = index if isinstance(index, int) and not isinstance(index, bool) else len(self.calls)
        call = self.calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        if isinstance(delta.get("id"), str) and delta["id"]:
            call["id"] = delta["id"]
        function = delta.get("function")
        fragment = ""
        if isinstance(function, dict):
            if isinstance(function.get("name"), str) and function["name"]:
                call["name"] += function["name"] if call["name"] != function["name"] else ""
            if isinstance(function.get("arguments"), str):
                fragment = function["arguments"]
                call["arguments"] += fragment
        return index, call["id"], call["name"], fragment

    def finished(self) -> tuple[StreamedCall, ...]:
        """The calls in index order; a call with no id gets `call_<index>` so its result can name it."""
        return tuple(
            StreamedCall(call["id"] or f"call_{index}", call["name"], call["arguments"])
            for index, call in sorted(self.calls.items())
            if call["name"]
        )


def has_attachments(messages: Sequence[Message]) -> bool:
    return any(m.images for m in messages)


def cache_messages(messages: Sequence[Message], image_digests: dict[int, list[str]] | None = None,
                   ) -> list[dict[str, Any]]:
    """The messages as the cache key names them: plain ones as {role, content}."""
    out: list[dict[str, Any]] = []
    for index, m in enumerate(messages):
        item: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.images:
            item["images"] = (image_digests or {}).get(index) or [ref.sha256 or ref.path for ref in m.images]
        if m.tool_calls:
            item["tool_calls"] = [[c.id, c.name, c.arguments] for c in m.tool_calls]
        if m.tool_call_id is not None:
            item["tool_call_id"] = m.tool_call_id
        out.append(item)
    return out


def wire_messages(messages: Sequence[Message], base_dir: str | None,
                  ) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
    """The request's messages, reading and encoding attached images (blocking: call off the loop);
    also the sha256 of each message's images for the cache key. Raises ImageError."""
    wire: list[dict[str, Any]] = []
    digests: dict[int, list[str]] = {}
    for index, m in enumerate(messages):
        if m.images:
            parts: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
            for ref in m.images:
                image = load_image(base_dir, ref)
                digests.setdefault(index, []).append(hashlib.sha256(image.data).hexdigest())
                parts.append({"type": "image_url", "image_url": {"url": image.data_url()}})
            wire.append({"role": m.role, "content": parts})
            continue
        wire.append(plain_wire(m))
    return wire, digests


def plain_wire(m: Message) -> dict[str, Any]:
    """One message without images, on the wire."""
    item: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        item["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments or "{}"}}
            for c in m.tool_calls
        ]
    if m.tool_call_id is not None:
        item["tool_call_id"] = m.tool_call_id
    return item


def as_tool_calls(calls: Sequence[StreamedCall]) -> list[ToolCall]:
    return [ToolCall(id=c.id, name=c.name, arguments=c.arguments) for c in calls]


__all__ = [
    "CallAssembler",
    "StreamedCall",
    "as_tool_calls",
    "cache_messages",
    "has_attachments",
    "plain_wire",
    "wire_messages",
]
