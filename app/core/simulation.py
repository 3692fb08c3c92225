"""Simulated users: the prompt the simulator model gets, the shape of its reply, and a reader that
never crashes.

A case's `simulated_user` continues its conversation after the fixed turns: after each assistant
reply the simulator writes the next user message as structured output `{message, done, reason}`.
A case with no fixed turns (`opens_conversation`) lets the simulator write the first message too.
This module is pure (no network): the engine (`app/engine/simulate.py`) sends what is built here and
hands back the text it got. The prompt is versioned (`SIMULATOR_PROMPT_VERSION`) because a change to
it changes every simulated turn, and a person comparing two runs should be able to see that.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.core.evals.textchecks import one_line
from app.core.prototype import Case, ConversationEnd, Message, Profile, Prototype, Run, SimulatedUser

SIMULATOR_PROMPT_VERSION = 1
"""Bump when the simulator's prompt or schema changes: simulated turns written before differ."""

SIMULATOR_MAX_TOKENS = 256
"""One short user message in JSON; the cap stops a small model that rambles from taking minutes."""

MESSAGE_MAX_CHARS = 600
"""A simulated message longer than this is cut: users type short messages, and the schema says so."""

SIMULATOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "maxLength": MESSAGE_MAX_CHARS},
        "done": {"type": "boolean"},
        "reason": {"type": "string", "maxLength": 200},
    },
    "required": ["message", "done", "reason"],
    "additionalProperties": False,
}
"""One simulated turn: the next user message, whether the user is done, and why."""

SIMULATOR_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "simulated_user_turn", "schema": SIMULATOR_SCHEMA, "strict": True},
}
"""The OpenAI `response_format` asking for a `SIMULATOR_SCHEMA` object (grammar-enforced on the
bundled model, so its turns always parse)."""

OPENING_SCHEMA: dict[str, Any] = {
    **SIMULATOR_SCHEMA,
    "properties": {
        "message": {"type": "string", "minLength": 2, "maxLength": MESSAGE_MAX_CHARS},
        "done": {"type": "boolean", "enum": [False]},
        "reason": {"type": "string", "maxLength": 200},
    },
}
"""The first message of a case with no fixed turn: not done, and not empty (with nothing said yet,
a small model otherwise tends to answer `done` or an empty message)."""

OPENING_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "simulated_user_opening", "schema": OPENING_SCHEMA, "strict": True},
}

SIMULATOR_SYSTEM = (
    "You play a user who is talking to an AI assistant, so that the assistant can be tested. "
    "Stay in character: write only what this user would type next, short and natural, in their voice. "
    "Never answer as the assistant and never mention that you are simulated.\n"
    "Persona: {persona}\n"
    "Goal: {goal}\n"
    "When the goal is reached, or the assistant clearly cannot help, set done to true and leave "
    "message empty. Reply with only a JSON object with three keys: message (what the user types next), "
    "done (true or false) and reason (why, in a few words)."
)

_FENCE_RE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class SimulatorReply:
    """What the simulator said: the next message, or done with a reason."""

    message: str
    done: bool
    reason: str


@dataclass(frozen=True)
class SimulatorProblem:
    """The simulator's answer could not be read; `reason` says why, for the thread."""

    reason: str


def seed_for(case: Case) -> int:
    """The simulator's seed: the case's own, else one derived from its id (stable across runs
    and machines, so every column of a case meets the same user)."""
    sim = case.simulated_user
    if sim is not None and sim.seed is not None:
        return sim.seed
    return int(hashlib.sha256(case.id.encode("utf-8")).hexdigest()[:8], 16)


def simulator_messages(sim: SimulatedUser, conversation: Sequence[Message], turn: int) -> list[Message]:
    """The simulator's request for user message `turn` (1-based) after `conversation` (system
    messages left out: the simulated user does not see the assistant's instructions).

    The turn number is in the text, so the response cache key differs per turn even if a
    conversation repeated itself."""
    system = SIMULATOR_SYSTEM.format(
        persona=sim.persona.strip() or "an ordinary user", goal=sim.goal.strip() or "get a useful answer"
    )
    lines = []
    for message in conversation:
        if message.role == "system":
            continue
        who = "USER" if message.role == "user" else "ASSISTANT"
        lines.append(f"{who}: {message.content.strip()}")
    if not lines:  # it opens the conversation: nothing to react to, so say what to write
        ask = (
            f"The conversation has not started yet. Write user message {turn} of at most {sim.max_turns}: "
            "the first message this user types to the assistant to start on their goal, as JSON with "
            "done false."
        )
        return [Message(role="system", content=system), Message(role="user", content=ask)]
    transcript = "\n\n".join(lines)
    ask = (
        f"The conversation so far:\n\n{transcript}\n\n"
        f"Write user message {turn} of at most {sim.max_turns}, as JSON."
    )
    return [Message(role="system", content=system), Message(role="user", content=ask)]


def parse_reply(text: str) -> SimulatorReply | SimulatorProblem:
    """Read the simulator's answer: a JSON object (bare, fenced, or inside prose). Never raises.

    Not done and no message is a problem too: sending an empty user message would only confuse
    the assistant under test."""
    data = _first_object(text)
    if data is None:
        return SimulatorProblem(f"simulated user reply is not JSON: {_quote(text)}")
    message = data.get("message")
    done = data.get("done")
    reason = data.get("reason")
    if isinstance(done, str) and done.strip().lower() in ("true", "false"):
        done = done.strip().lower() == "true"
    if not isinstance(done, bool):
        return SimulatorProblem(f"simulated user reply has no true/false `done`: {_quote(text)}")
    if message is None:
        message = ""
    if not isinstance(message, str):
        return SimulatorProblem(f"simulated user `message` is not text: {_quote(text)}")
    reason_text = one_line(reason, 200) if isinstance(reason, str) else ""
    message = message.strip()[:MESSAGE_MAX_CHARS]
    if not done and not message:
        return SimulatorProblem("simulated user wrote an empty message without saying it was done")
    return SimulatorReply(message=message, done=done, reason=reason_text)


def _first_object(text: str) -> dict[str, Any] | None:
    candidates = [text.strip(), *(m.group(1).strip() for m in _FENCE_RE.finditer(text))]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start in [i for i, ch in enumerate(candidate) if ch == "{"][:20]:
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _quote(text: str) -> str:
    return repr(one_line(text, 120)) if text.strip() else "(empty answer)"


def simulation_problems(proto: Prototype) -> list[tuple[tuple[str | int, ...], str]]:
    """(YAML path, message) for each simulated user that cannot run as written (unknown model).

    Bounds (max_turns, script length) are the document model's; this checks references, which
    may go stale when a model target is deleted, so they are reported before a run, not at load."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    models = {m.id for m in proto.models}
    for index, case in enumerate(proto.cases):
        sim = case.simulated_user
        if sim is None or sim.model is None or sim.model in models:
            continue
        found.append((
            ("cases", index, "simulated_user", "model"),
            f"simulated user model {sim.model!r} is not a model target of this file "
            f"(known: {', '.join(sorted(models)) or 'none'}); leave it out for the bundled model",
        ))
    return found


def is_simulated(case: Case) -> bool:
    """Whether running this case starts a simulated conversation."""
    return case.simulated_user is not None


def opens_conversation(case: Case, profile: Profile | None = None) -> bool:
    """Whether the simulated user writes this case's first message: it has a simulated user and no
    fixed turn (nor does `profile`, whose own turns replace the case's when it has some)."""
    if case.simulated_user is None or case.turns:
        return False
    return profile is None or not profile.turns


def most_replies(case: Case, profile: Profile | None = None) -> int:
    """How many replies a conversation on `case` may take: its first reply and `max_turns` more,
    or, when the simulated user opens it, `max_turns` in all (its first message is one of them).
    1 for a case with no simulated user. The engine's progress budget and "turn 2 of up to 6"."""
    sim = case.simulated_user
    if sim is None:
        return 1
    return sim.max_turns if opens_conversation(case, profile) else 1 + sim.max_turns


def turn_words(case: Case, profile: Profile | None, written: int) -> str:
    """"turn 2 of up to 6": which exchange of a simulated conversation is being answered, after the
    simulated user wrote `written` messages (0: the case's own first turn); "" for a plain case.
    What a designer counts is turns of the conversation, not the batch's replies."""
    if case.simulated_user is None:
        return ""
    most = most_replies(case, profile)
    turn = max(1, min(most, written + (0 if opens_conversation(case, profile) else 1)))
    return f"turn {turn} of up to {most}"


def conversation_over(replies: Sequence[Run]) -> bool:
    """Whether a stored simulated conversation ran to its end (so evals may grade it instead of
    running it again): its last run records an end other than a cancel; files written before
    ends were stored: it has at least one simulated turn."""
    if not replies:
        return False
    end = replies[-1].conversation_end
    if end is not None:
        return end.by != "cancelled"
    return len(replies) >= 2


NO_FIXED_TURN = "its simulated user writes the first message"
"""Why a case with no fixed turn cannot be sent as one request (batches, exports): there is no
user message until the simulator has written one."""


def fewest_turns(case: Case) -> int:
    """How few fixed turns the case may have: none when a simulated user can write the first
    message, else one (the same rule the loader checks, for editors that remove turns)."""
    return 0 if case.simulated_user is not None else 1


def first_user_text(case: Case) -> str:
    """The case's first fixed user message as written (placeholders unfilled), "" when it has none:
    a simulated user writes it at run time. Labels, dedupe and exports read it here."""
    return next((turn.content for turn in case.turns if turn.role == "user"), "")


def case_label_text(case: Case) -> str:
    """What stands for the case's conversation in a list or a grid row: its turns, or, when it has
    none, who the simulated user is."""
    if case.turns or case.simulated_user is None:
        return first_user_text(case)
    sim = case.simulated_user
    said = sim.script[0] if sim.script else (sim.goal.strip() or sim.persona.strip())
    return f"(simulated user) {said}".rstrip()


END_WORDS: dict[str, str] = {
    "done": "the simulated user was done",
    "max_turns": "max_turns reached",
    "script_end": "script finished",
    "simulator_fault": "simulated user failed",
    "reply_fault": "a reply failed",
    "cancelled": "cancelled",
}
"""How each way a conversation ends reads in a grid cell, `run` and `status`."""


def end_words(end: ConversationEnd) -> str:
    """One line for how a conversation ended, e.g. "the simulated user was done: got the tip"."""
    words = END_WORDS.get(end.by, end.by)
    reason = end.reason.strip()
    if not reason or reason == words:
        return words
    if reason.startswith(end.by):  # the engine's own wording, e.g. "max_turns (2) reached": not twice
        return reason
    return f"{words}: {reason}"


def thread_end(thread: Sequence[Run]) -> ConversationEnd | None:
    """How a shown thread's simulated conversation ended (its newest recorded end), None when it
    is not one or has not ended: the text view and the chat preview read it here."""
    return next((run.conversation_end for run in reversed(thread) if run.conversation_end), None)


__all__ = [
    "END_WORDS",
    "NO_FIXED_TURN",
    "OPENING_FORMAT",
    "OPENING_SCHEMA",
    "SIMULATOR_FORMAT",
    "SIMULATOR_MAX_TOKENS",
    "SIMULATOR_PROMPT_VERSION",
    "SIMULATOR_SCHEMA",
    "SimulatorProblem",
    "SimulatorReply",
    "case_label_text",
    "conversation_over",
    "end_words",
    "fewest_turns",
    "first_user_text",
    "is_simulated",
    "opens_conversation",
    "parse_reply",
    "seed_for",
    "simulation_problems",
    "simulator_messages",
    "thread_end",
]
