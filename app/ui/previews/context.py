"""What every preview is given: the thread to show, and the few facts about its column it needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.formfactors.canvas_document import ThreadStep
from app.core.prototype import Prototype, Run


@dataclass(frozen=True)
class PreviewContext:
    """The column's form factor, and the names a notification card shows (app, title)."""

    form_factor: str = "chat"
    app_name: str = "Protostudio"
    title: str = ""


def thread_turns(thread: Sequence[Run]) -> list[tuple[str, str]]:
    """(role, text) of the conversation a thread shows: the case's turns as sent with the first
    answer (vars filled, system prompt left out), then each follow-up and its answer."""
    turns: list[tuple[str, str]] = []
    for index, run in enumerate(thread):
        if index == 0:
            turns += [(m.role, m.content) for m in run.messages if m.role != "system"]
        else:
            users = [m.content for m in run.messages if m.role == "user"]
            turns.append(("user", users[-1] if users else ""))
        turns.append(("assistant", run.output))
    return turns


def thread_steps(thread: Sequence[Run]) -> list[ThreadStep]:
    """The thread's replies with their tool calls, as the core's canvas rules read them."""
    return [
        ThreadStep(run.output, [{"name": c.name, "arguments": c.arguments} for c in run.tool_calls])
        for run in thread
    ]


def preview_context(proto: Prototype, profile_id: str) -> PreviewContext:
    """A column's context: its profile's form factor; the card's app is the prototype, its title the profile.

    Raises KeyError for an unknown profile."""
    profile = proto.profile(profile_id)
    return PreviewContext(profile.form_factor, proto.name or "Protostudio", profile.label)
