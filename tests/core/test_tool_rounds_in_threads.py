"""A reply that called a tool stores the tool round after the user's message: readers of "what the
user said" must look past it (cells, `run`/`eval --json` conversations, `status`)."""

from __future__ import annotations

from app.core.conversations import said, user_turns
from app.core.prototype import Message, Run, ToolCall
from app.core.tools import exchange_messages, without_tool_rounds


def _reply(question: str, *, tool_round: bool) -> Run:
    messages = [Message(role="system", content="Be brief."), Message(role="user", content=question)]
    if tool_round:
        call = ToolCall(id="call_1", name="get_weather", arguments="{}", result='{"sky": "rain"}')
        messages += exchange_messages("Let me check.", [call])
    return Run(id="r1", created="2026-11-30T06:00:00Z", profile="p", model="m", case="c",
               messages=messages, output="Take a coat.", user_turn="simulated")


def test_what_the_simulated_user_said_survives_a_tool_round() -> None:
    plain = _reply("Do I need a coat?", tool_round=False)
    with_tool = _reply("Do I need a coat?", tool_round=True)
    assert said(plain) == said(with_tool) == "Do I need a coat?"
    assert user_turns([with_tool]) == 1
    assert [m.role for m in without_tool_rounds(with_tool.messages)] == ["system", "user"]
