"""How the local server reads a chat request (no model is loaded here)."""

from __future__ import annotations

from typing import Any

import pytest

from app.providers.local_server import DEFAULT_MAX_TOKENS, BadRequest, ChatRequest
from app.providers.model_files import LOCAL_MODEL_ID

HELLO = [{"role": "user", "content": "hello"}]


def parse(**body: Any) -> ChatRequest:
    return ChatRequest.parse({"model": LOCAL_MODEL_ID, "messages": HELLO, **body})


def test_sampling_parameters_are_passed_on() -> None:
    request = parse(temperature=0, top_p=0.5, max_tokens=7, seed=3, stop="END", stream=True,
                    stream_options={"include_usage": True})
    assert {k: request.params[k] for k in ("temperature", "top_p", "max_tokens", "seed", "stop")} == {
        "temperature": 0.0, "top_p": 0.5, "max_tokens": 7, "seed": 3, "stop": ["END"]}
    assert request.stream and request.include_usage


def test_max_completion_tokens_wins_and_an_unset_cap_has_a_default() -> None:
    assert parse(max_completion_tokens=9, max_tokens=50).params["max_tokens"] == 9
    assert parse().params["max_tokens"] == DEFAULT_MAX_TOKENS


def test_no_seed_means_a_fresh_one_each_time() -> None:
    seeds = {parse().params["seed"] for _ in range(5)}
    assert len(seeds) > 1


def test_text_parts_are_joined_and_developer_is_a_system_message() -> None:
    request = ChatRequest.parse({"messages": [
        {"role": "developer", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "one "}, {"type": "text", "text": "two"}]},
    ]})
    assert request.messages == [{"role": "system", "content": "be brief"},
                                {"role": "user", "content": "one two"}]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"model": "gpt-4o"}, 404, "model_not_found"),
    ({"messages": []}, 400, "invalid_request_error"),
    ({"messages": [{"role": "robot", "content": "x"}]}, 400, "invalid_request_error"),
    ({"temperature": 3}, 400, "invalid_request_error"),
    ({"temperature": "hot"}, 400, "invalid_request_error"),
    ({"max_tokens": 1.5}, 400, "invalid_request_error"),
    ({"n": 2}, 400, "unsupported_parameter"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}]}, 400, "unsupported_parameter"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     400, "unsupported_content"),
])
def test_bad_requests_get_a_status_and_a_code(body: dict[str, Any], status: int, code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        ChatRequest.parse({"model": LOCAL_MODEL_ID, "messages": HELLO, **body})
    assert (caught.value.status, caught.value.code) == (status, code)
