"""The canvas form factor: did a reply open a canvas (a document panel beside the chat), and with
what title?

In the real product that decision is a tool call, `open_canvas(title, content)`. Models without
tools fall back to a text marker: the reply starts with `[canvas: <title>]` on its first line
(what prototypes/canvas-trigger.yaml asks for). A tool call wins over the marker; a marker later
in the reply does not count, since a product would only look for it at the start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.core import jsontext

OPEN_TOOL = "open_canvas"
"""The tool whose call opens a canvas."""

_MARKER_RE = re.compile(r"\A\s*\[canvas:[ \t]*([^\]\n]*?)[ \t]*\]")


@dataclass(frozen=True)
class CanvasOpening:
    """Whether a canvas opened, its title, and how: by a `tool` call, the text `marker`, or `none`."""

    opened: bool
    title: str = ""
    via: Literal["tool", "marker", "none"] = "none"


def canvas_opened(output: str, tool_calls: Sequence[Mapping[str, Any]] | None = None) -> CanvasOpening:
    """How a reply opened a canvas. `tool_calls` are {name, arguments} dicts (arguments as a dict
    or a JSON text); the OpenAI shape {function: {name, arguments}} is read too."""
    for call in tool_calls or ():
        name, arguments = _name_and_arguments(call)
        if name == OPEN_TOOL:
            title = arguments.get("title")
            return CanvasOpening(True, str(title).strip() if title is not None else "", "tool")
    marker = _MARKER_RE.match(output)
    if marker and marker.group(1):
        return CanvasOpening(True, marker.group(1), "marker")
    return CanvasOpening(False)


def _name_and_arguments(call: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    function = call.get("function")
    source: Mapping[str, Any] = function if isinstance(function, Mapping) else call
    name = source.get("name")
    arguments = source.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = jsontext.loads(arguments)
        except ValueError:
            arguments = None
    parsed = dict(arguments) if isinstance(arguments, Mapping) else {}
    return (name if isinstance(name, str) else ""), parsed
