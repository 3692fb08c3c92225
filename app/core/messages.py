"""The exact messages a variant sends for a case, built deterministically so any output can be reproduced.

The system message is the profile's system prompt, then its custom instructions, then its
behavior spec as numbered rules with good and bad examples, then a note on the form factor
(how the answer will be presented). `{{var}}` placeholders are filled from the case's vars
by `app.core.placeholders.render_vars` (the graders use it too); unknown ones are left as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.core.placeholders import render_vars
from app.core.prototype import Case, FormFactor, ImageRef, Message, Profile, Prototype, Rule, Run, ToolCall

FORM_FACTOR_NOTES: dict[FormFactor, str] = {
    "chat": "",
    "canvas": (
        "Your answer is shown in a canvas beside the chat, as a document the user can edit. "
        "Write the complete piece, well structured with headings and lists where they help, "
        "not a conversational reply about it."
    ),
    "voice": (
        "Your answer is spoken aloud by a voice assistant. Use short, plain spoken sentences. "
        "No markdown, lists, tables, links, emoji or code."
    ),
    "notification": (
        "Your answer is shown as a phone notification. One or two short sentences, "
        "under 140 characters, plain text only."
    ),
}
"""What the model is told about each form factor. Chat needs no note."""

def system_text(profile: Profile, values: Mapping[str, str] | None = None) -> str:
    """The whole system message for a profile, or "" when the profile says nothing."""
    values = values or {}
    parts: list[str] = []
    if profile.system_prompt.strip():
        parts.append(profile.system_prompt.strip())
    if profile.custom_instructions.strip():
        parts.append("Custom instructions from the user:\n" + profile.custom_instructions.strip())
    if profile.behavior_spec:
        parts.append(_rules_text(profile.behavior_spec))
    note = FORM_FACTOR_NOTES[profile.form_factor]
    if note:
        parts.append(f"Form factor ({profile.form_factor}): {note}")
    return render_vars("\n\n".join(parts), values)


def _rules_text(rules: list[Rule]) -> str:
    lines = ["Follow these rules:"]
    for number, rule in enumerate(rules, start=1):
        lines.append(f"{number}. {rule.rule.strip()}")
        lines.extend(f"   Good example: {_quoted(example)}" for example in rule.good)
        lines.extend(f"   Bad example (do not answer like this): {_quoted(example)}" for example in rule.bad)
    return "\n".join(lines)


def _quoted(example: str) -> str:
    return '"' + " ".join(example.split()) + '"'


def build_messages(
    proto: Prototype | None,
    profile: Profile,
    case: Case,
    *,
    history: Run | None = None,
    user_message: str | None = None,
    baseline: bool = False,
) -> list[Message]:
    """The messages for one cell: system message (unless `baseline`), then the case's turns (or the
    profile's own turns, when it has some).

    With `history` (the previous run of this thread) and `user_message`, the next turn of
    that thread instead: see `continue_messages`. `baseline=True` is the prompted baseline
    of evals: the same conversation with no system prompt, no custom instructions and no
    spec, so a check that it also passes is not measuring the profile. `proto` is accepted
    for symmetry with the engine's callers; nothing in it changes the messages today.
    """
    del proto
    if history is not None:
        if user_message is None:
            raise ValueError("continuing a thread needs the next user message")
        return continue_messages(history, user_message)
    messages: list[Message] = []
    if not baseline:
        system = system_text(profile, case.vars)
        if system:
            messages.append(Message(role="system", content=system))
    turns = profile.turns or case.turns  # a profile with its own conversation (imported prompts) sends that
    messages.extend(
        Message(role=turn.role, content=render_vars(turn.content, case.vars))
        if not turn.images or turn.role != "user"
        else Message(role=turn.role, content=render_vars(turn.content, case.vars), images=list(turn.images))
        for turn in turns
    )
    return messages


def continue_messages(previous: Run, user_message: str) -> list[Message]:
    """The next turn of a thread: what `previous` sent, its answer as the assistant, then the new message.

    The new message is sent as typed: a person's live message is not a template.
    """
    return [
        *previous.messages,
        Message(role="assistant", content=last_round_text(previous.messages, previous.output)),
        Message(role="user", content=user_message),
    ]


ROUND_SEPARATOR = "\n\n"
"""Between the text of two tool rounds in a run's output (`app/engine/tool_loop.py` joins them)."""


def last_round_text(messages: Sequence[Message], output: str) -> str:
    """The text of an answer's last round: its output without the text of the tool rounds before it,
    which its messages already carry (as the assistant messages of the exchange)."""
    exchange = messages[len(sent_prefix(messages)):]
    earlier = [m.content for m in exchange if m.role == "assistant" and m.content]
    prefix = ROUND_SEPARATOR.join(earlier)
    if earlier and output.startswith(prefix):
        return output[len(prefix):].removeprefix(ROUND_SEPARATOR)
    return output


def is_plain(message: Message) -> bool:
    """No images and no tool fields: `message_extras` is empty."""
    return not message.images and not message.tool_calls and message.tool_call_id is None


def message_extras(message: Message) -> dict[str, Any]:
    """A message's images and tool fields as plain data, {} for a plain text message: what the
    prompts table, fingerprints and caches add to (role, content) so plain messages stay as they were."""
    extras: dict[str, Any] = {}
    if message.images:
        extras["images"] = [ref.model_dump(exclude_none=True) for ref in message.images]
    if message.tool_calls:
        extras["tool_calls"] = [call.model_dump(exclude_none=True) for call in message.tool_calls]
    if message.tool_call_id is not None:
        extras["tool_call_id"] = message.tool_call_id
    return extras


def extras_fields(extras: Mapping[str, Any]) -> dict[str, Any]:
    """`message_extras` back as Message field values (for `model_copy(update=...)`)."""
    fields: dict[str, Any] = {}
    if "images" in extras:
        fields["images"] = [ImageRef.model_validate(item) for item in extras["images"]]
    if "tool_calls" in extras:
        fields["tool_calls"] = [ToolCall.model_validate(item) for item in extras["tool_calls"]]
    if "tool_call_id" in extras:
        fields["tool_call_id"] = extras["tool_call_id"]
    return fields


def as_openai(message: Message) -> dict[str, Any]:
    """A message in OpenAI's chat shape for exports: {role, content}, plus an assistant's `tool_calls`
    and a tool message's `tool_call_id`. Attached images are not inlined (exports carry text; the
    image references stay in the prototype)."""
    item: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        item["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        item["tool_call_id"] = message.tool_call_id
    return item


def is_tool_exchange(message: Message) -> bool:
    """An assistant message that made tool calls, or a tool's answer: part of a tool round."""
    return message.role == "tool" or (message.role == "assistant" and bool(message.tool_calls))


def sent_prefix(messages: Sequence[Message]) -> Sequence[Message]:
    """The messages a cell sent before its tool rounds: a run's stored messages minus the trailing
    exchange its tool loop added (calls and results), which is what staleness compares."""
    end = len(messages)
    while end and is_tool_exchange(messages[end - 1]):
        end -= 1
    return messages[:end]


__all__ = [
    "FORM_FACTOR_NOTES",
    "ROUND_SEPARATOR",
    "as_openai",
    "build_messages",
    "continue_messages",
    "extras_fields",
    "is_tool_exchange",
    "last_round_text",
    "message_extras",
    "render_vars",
    "sent_prefix",
    "system_text",
]
