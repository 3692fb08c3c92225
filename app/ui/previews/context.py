"""What every preview is given: the thread to show, and the few facts about its column it needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.core.formfactors.canvas_document import ThreadStep
from app.core.prototype import ImageRef, Prototype, Run
from app.core.simulation import end_words, thread_end
from app.core.tools import without_tool_rounds
from app.ui.markdown_view import USER_TURN_LABELS


@dataclass(frozen=True)
class PreviewContext:
    """The column's form factor, and the names a notification card shows (app, title)."""

    form_factor: str = "chat"
    app_name: str = "Protostudio"
    title: str = ""
    folder: str | None = None
    """The prototype's folder: where a turn's image paths start (`Prototype.base_dir`)."""


@dataclass(frozen=True)
class ChatTurn:
    """One bubble: who speaks, the text, and how a user turn not typed by a person is marked
    (`USER_TURN_LABELS`: "Simulated user", "Scripted user"; empty otherwise). Role "end" is no
    bubble but the small line under a simulated conversation saying how it ended."""

    role: str
    text: str
    mark: str = ""
    images: tuple[ImageRef, ...] = ()
    """A user turn's attached images (shown as thumbnails in its bubble, read from local files)."""


def thread_turns(thread: Sequence[Run]) -> list[ChatTurn]:
    """The conversation a thread shows: the case's turns as sent with the first answer (vars
    filled, system prompt left out), then each follow-up (marked when a simulated user wrote it)
    and its answer, the way `cell_widget.thread_markdown` reads a thread."""
    turns: list[ChatTurn] = []
    for index, run in enumerate(thread):
        said = without_tool_rounds(run.messages)
        if index == 0:
            sent = [ChatTurn(m.role, m.content, images=tuple(m.images)) for m in said if m.role != "system"]
            if run.user_turn is not None and sent and sent[-1].role == "user":  # it wrote the first message
                sent[-1] = replace(sent[-1], mark=USER_TURN_LABELS.get(run.user_turn, ""))
            turns += sent
        elif not said or said[-1].role == "user":  # a simulator fault adds none
            text = said[-1].content if said else ""
            images = tuple(said[-1].images) if said else ()
            turns.append(ChatTurn("user", text, USER_TURN_LABELS.get(run.user_turn or "", ""), images))
        if run.output or run.status == "ok":  # a failed call with no text shows its error below, no bubble
            turns.append(ChatTurn("assistant", run.output))
    end = thread_end(thread)
    if end is not None:  # without it a designer cannot tell a finished conversation from a cut one
        turns.append(ChatTurn("end", f"Conversation ended: {end_words(end)}"))
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
    return PreviewContext(profile.form_factor, proto.name or "Protostudio", profile.label, proto.base_dir)
