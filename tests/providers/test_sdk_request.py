"""The hub sends chat requests past the SDK's transform (`sdk_request.py`): the server must receive
exactly what `chat.completions.create(**body)` would have sent, headers included."""

from __future__ import annotations

from typing import Any

import openai
from fakeserver import FakeOpenAI, Reply
from provider_kit import run, stream_events, target

from app.core.prototype import Message
from app.providers.hub import NO_KEY, ProviderHub
from app.providers.sdk_request import create_kwargs

PARAMS: dict[str, Any] = {
    "temperature": 0.3,
    "max_tokens": 40,
    "top_p": 0.9,
    "seed": 11,
    "stop": ["END", "\n\n"],
    "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}},
    "tools": [{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}],
    "tool_choice": "auto",
}
MESSAGES = [Message(role="system", content="Be brief."), Message(role="user", content="Héllo {{x}} 🐈")]
SAME_HEADERS = ("authorization", "content-type", "accept", "user-agent")


def _direct(base_url: str, body: dict[str, Any]) -> None:
    async def go() -> None:
        client = openai.AsyncOpenAI(api_key=NO_KEY, base_url=base_url, max_retries=0)
        try:
            stream = await client.chat.completions.create(**body)
            async for _ in stream:
                pass
        finally:
            await client.close()

    run(go())


def test_the_body_and_headers_are_what_create_would_send(hub: ProviderHub, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(text="one"), Reply(text="two"))
    stream_events(hub, target(**PARAMS), MESSAGES)
    wire = [{"role": m.role, "content": m.content} for m in MESSAGES]
    _direct(fake_server.base_url, {"model": "fake-model", "messages": wire, "stream": True,
                                   "stream_options": {"include_usage": True}, **PARAMS})
    sent, direct = fake_server.chat_requests()
    assert sent.body == direct.body
    assert {k: sent.headers.get(k) for k in SAME_HEADERS} == {k: direct.headers.get(k) for k in SAME_HEADERS}


def test_create_kwargs_keep_every_field_once() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True, "seed": 1}
    kwargs = create_kwargs(body)
    assert (kwargs["model"], kwargs["stream"], kwargs["messages"]) == ("m", True, [])
    assert kwargs["extra_body"] == {"messages": body["messages"], "seed": 1}
