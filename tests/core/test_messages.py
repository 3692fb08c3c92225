"""The messages a cell sends: deterministic, complete, and exactly what the profile and case say."""

from __future__ import annotations

from app.core.messages import build_messages, continue_messages, render_vars, system_text
from app.core.prototype import Case, Message, Profile, Prototype, Rule, Run, Turn

PROFILE = Profile(
    id="cat",
    form_factor="voice",
    system_prompt="You are {{name}}, a cat.",
    custom_instructions="Call me {{ user }}.",
    behavior_spec=[
        Rule(id="short", rule="Keep it short.", good=["Mrrp. Fine."], bad=["Well, let me\n explain..."]),
    ],
)
CASE = Case(
    id="hi",
    vars={"name": "Tom", "user": "Ann"},
    turns=[
        Turn(content="Hi {{name}}, I'm {{user}}. {{unknown}} stays."),
        Turn(role="assistant", content="Meow, {{user}}."),
        Turn(content="How are you?"),
    ],
)
PROTO = Prototype(name="t", profiles=[PROFILE], cases=[CASE])


def test_system_message_has_prompt_instructions_rules_and_form_factor_in_order() -> None:
    messages = build_messages(PROTO, PROFILE, CASE)
    system = messages[0]
    assert system.role == "system"
    text = system.content
    order = [text.index(part) for part in (
        "You are Tom, a cat.", "Call me Ann.", "1. Keep it short.", 'Good example: "Mrrp. Fine."',
        'Bad example (do not answer like this): "Well, let me explain..."', "Form factor (voice)",
    )]
    assert order == sorted(order)


def test_turns_follow_with_vars_rendered_and_unknown_vars_kept() -> None:
    messages = build_messages(PROTO, PROFILE, CASE)
    assert messages[1:] == [
        Message(role="user", content="Hi Tom, I'm Ann. {{unknown}} stays."),
        Message(role="assistant", content="Meow, Ann."),
        Message(role="user", content="How are you?"),
    ]


def test_messages_are_deterministic() -> None:
    first = build_messages(PROTO, PROFILE, CASE)
    again = build_messages(PROTO, PROFILE.model_copy(deep=True), CASE.model_copy(deep=True))
    assert [m.model_dump() for m in first] == [m.model_dump() for m in again]


def test_baseline_sends_only_the_conversation() -> None:
    messages = build_messages(PROTO, PROFILE, CASE, baseline=True)
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    assert all("cat" not in m.content for m in messages)


def test_a_profile_that_says_nothing_sends_no_system_message() -> None:
    messages = build_messages(PROTO, Profile(id="empty"), CASE)
    assert messages[0].role == "user"


def test_chat_has_no_form_factor_note_but_canvas_and_notification_do() -> None:
    assert "Form factor" not in system_text(Profile(id="a", system_prompt="x"))
    assert "canvas" in system_text(Profile(id="b", form_factor="canvas"))
    assert "notification" in system_text(Profile(id="c", form_factor="notification"))


def test_render_vars_allows_spaces_and_leaves_other_braces() -> None:
    assert render_vars("{{ a }}{{a}} {b} {{ missing }}", {"a": "1"}) == "11 {b} {{ missing }}"


def test_continuation_appends_the_answer_and_the_new_message() -> None:
    previous = Run(id="run-1", created="2026-11-22T00:00:00Z", profile="cat", model="m", case="hi",
                   messages=build_messages(PROTO, PROFILE, CASE), output="Purr.")
    messages = continue_messages(previous, "And {{name}}?")
    assert messages[:-2] == previous.messages
    assert messages[-2:] == [Message(role="assistant", content="Purr."),
                             Message(role="user", content="And {{name}}?")]
    assert build_messages(PROTO, PROFILE, CASE, history=previous, user_message="And {{name}}?") == messages
