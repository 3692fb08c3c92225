"""`sse.chunks` reads the same events however the body's bytes arrive."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from app.providers import sse

EVENTS = [
    {"choices": [{"index": 0, "delta": {"content": "héllo ✓"}}]},
    {"choices": [{"index": 0, "delta": {"content": "line\nbreak"}, "finish_reason": "stop"}]},
    {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
]


class Body:
    """An httpx-like streaming response that yields its bytes in the given pieces."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.read = 0
        self.request = None

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.read += 1
            yield piece


def body(newline: str, *, multiline_data: bool = False) -> bytes:
    lines: list[str] = [": a comment", "event: message"]
    for event in EVENTS:
        text = json.dumps(event, ensure_ascii=False)
        if multiline_data:  # one event's JSON spread over several data: lines, with and without the space
            pretty = json.dumps(event, ensure_ascii=False, indent=1).split("\n")
            lines += [f"data: {line}" if i % 2 else f"data:{line}" for i, line in enumerate(pretty)] + [""]
        else:
            lines += [f"data: {text}", ""]
    lines += ["data: [DONE]", "", ""]
    return newline.join(lines).encode("utf-8")


def read(pieces: list[bytes]) -> tuple[list[dict[str, Any]], Body]:
    response = Body(pieces)

    async def go() -> list[dict[str, Any]]:
        return [event async for event in sse.chunks(response)]

    return asyncio.run(go()), response


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("multiline_data", [False, True])
def test_every_split_of_the_body_gives_the_same_events(newline: str, multiline_data: bool) -> None:
    data = body(newline, multiline_data=multiline_data)
    whole, _ = read([data])
    expected = EVENTS
    assert whole == expected
    for cut in range(1, len(data)):  # two reads, cut anywhere (inside a UTF-8 character too)
        assert read([data[:cut], data[cut:]])[0] == expected, cut
    assert read([data[i:i + 1] for i in range(len(data))])[0] == expected  # one byte per read


def test_the_body_is_read_to_its_end_after_done() -> None:
    data = body("\n")
    events, response = read([data, b": trailing bytes the server sends after [DONE]\n", b"\n"])
    assert events == EVENTS
    assert response.read == 3  # so the connection goes back to the pool


def test_a_last_event_without_its_blank_line_is_kept() -> None:
    text = json.dumps(EVENTS[0])
    assert read([f"data: {text}".encode()])[0] == [EVENTS[0]]
    assert read([f"data: {text}\r".encode()])[0] == [EVENTS[0]]


def test_an_error_event_raises_the_sdk_error() -> None:
    with pytest.raises(openai.APIError, match="overloaded"):
        read([b'data: {"error": {"message": "overloaded"}}\n\n'])


def test_an_event_nested_too_deep_is_broken_json_not_a_recursion_error() -> None:
    """As any broken chunk: a ValueError, which the stream reports in its own cell."""
    deep = "[" * 3000 + "]" * 3000
    with pytest.raises(ValueError, match="nested too deep"):
        read([f"data: {deep}\n\n".encode()])
