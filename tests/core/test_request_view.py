from __future__ import annotations

from app.core.prototype import Case, Message, ModelParams, Run, Turn, Usage
from app.core.request_view import request_text, sent_user_message


def _run() -> Run:
    return Run(
        id="r1", created="2026-01-01T00:00:00Z", profile="p", model="m", case="c", provider="vllm",
        model_name="fake-model", params=ModelParams(temperature=0.7),
        messages=[Message(role="system", content="You are Tom's cat."),
                  Message(role="user", content="Hi Tom")],
        ttft_ms=120, latency_ms=900, usage=Usage(prompt_tokens=12, completion_tokens=30), output="meow",
    )


def test_user_message_has_vars_filled() -> None:
    case = Case(id="c", vars={"cat_name": "Tom"}, turns=[Turn(content="Hi {{cat_name}}")])
    assert sent_user_message(None, case) == "Hi Tom"
    assert sent_user_message(_run(), case) == "Hi Tom"
    assert "{{" not in sent_user_message(None, case)


def test_request_text_has_messages_params_endpoint_timings() -> None:
    text = request_text(_run(), endpoint="http://127.0.0.1:9/v1")
    for part in ("http://127.0.0.1:9/v1", "fake-model", '"temperature": 0.7', "first token after 0.12 s",
                 "done after 0.90 s", "12 prompt + 30 answer tokens", "── system ──", "You are Tom's cat.",
                 "Hi Tom"):
        assert part in text
