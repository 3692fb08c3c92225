"""What a canvas panel holds after a thread: the artefact a model opened and then edited.

`canvas_opened` (canvas.py) answers the rateable question "did this reply open a canvas?". A
preview also needs the document itself: the `content` of the `open_canvas` call, replaced by each
later `update_canvas` call (follow-ups edit the same canvas), or, for models without tools, the
text after the `[canvas: title]` marker line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.core import jsontext
from app.core.formfactors.canvas import OPEN_TOOL, canvas_opened

UPDATE_TOOL = "update_canvas"
"""The tool whose call replaces the open canvas's content (and title, when given)."""


@dataclass(frozen=True)
class CanvasDocument:
    """The canvas after a thread: its title and markdown content, how it opened, how often it was
    updated, and the chat text that stays beside it. `problem` says why a call could not be read."""

    opened: bool
    title: str = ""
    content: str = ""
    via: Literal["tool", "marker", "none"] = "none"
    updates: int = 0
    chat: str = ""
    problem: str = ""


@dataclass(frozen=True)
class ThreadStep:
    """One reply of a thread: its text and its tool calls ({name, arguments} with arguments as JSON text)."""

    output: str
    tool_calls: Sequence[Mapping[str, Any]] = ()


def canvas_document(steps: Sequence[ThreadStep]) -> CanvasDocument:
    """The canvas a thread leaves open (from its first opening on); the chat is the newest reply's text."""
    doc: CanvasDocument | None = None
    chat = steps[-1].output if steps else ""
    for step in steps:
        for call in step.tool_calls:
            name = str(call.get("name", ""))
            if name not in (OPEN_TOOL, UPDATE_TOOL):
                continue
            arguments, problem = _arguments(call.get("arguments"))
            if name == OPEN_TOOL or doc is None:
                doc = CanvasDocument(
                    True, _text(arguments.get("title")), _text(arguments.get("content")), "tool",
                    problem=problem,
                )
            else:
                doc = CanvasDocument(
                    True, _text(arguments.get("title")) or doc.title,
                    _text(arguments.get("content")) if "content" in arguments else doc.content,
                    doc.via, doc.updates + 1, problem=problem or doc.problem,
                )
        if doc is None:
            opening = canvas_opened(step.output)
            if opening.opened:
                doc = CanvasDocument(True, opening.title, _after_marker(step.output), "marker")
                if step is steps[-1]:
                    chat = ""
    if doc is None:
        return CanvasDocument(False, chat=chat)
    return CanvasDocument(doc.opened, doc.title, doc.content, doc.via, doc.updates, chat, doc.problem)


def _arguments(raw: Any) -> tuple[dict[str, Any], str]:
    if isinstance(raw, Mapping):
        return dict(raw), ""
    if not raw:
        return {}, "the call has no arguments"
    try:
        parsed = jsontext.loads(str(raw))
    except json.JSONDecodeError as exc:
        return {}, f"the call's arguments are not valid JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(parsed, dict):
        return {}, "the call's arguments are not a JSON object"
    return parsed, ""


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _after_marker(output: str) -> str:
    """The reply after its `[canvas: title]` marker (the rest of that line included)."""
    start = output.find("]", output.find("[canvas:")) + 1
    return output[start:].strip()
