"""Exports of a prototype to the formats other eval tools read, and the promptfoo import.

Every exporter is a pure function: prototype in, `{relative path: text}` out, plus notes
saying what did not map. The caller writes the files (atomically) and prints the notes.
Nothing here imports the engine or the provider layer (app/core is the bottom layer), so
the two things an export needs from above are passed in:

- `build_messages(profile, case)`: the exact messages Protostudio sends, from the engine
  (`app.core.messages.build_messages`), so an exported prompt is what a run would send;
- `endpoints`: provider id -> `Endpoint` (base URL and key env var), from the provider registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.prototype import Case, Message, Profile

BuildMessages = Callable[[Profile, Case], list[Message]]
"""(profile, case) -> the messages a run of that cell sends, system message first."""


@dataclass(frozen=True)
class Endpoint:
    """Where a provider id points: the OpenAI-compatible base URL and the env var holding its key."""

    base_url: str
    key_env: str | None = None
    needs_key: bool = True


@dataclass
class ExportResult:
    """Files to write (relative path -> text) and one line per thing that did not map exactly."""

    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    summary: str = ""
    """One line for the person who ran the export, e.g. how many pairs were written and skipped."""
    warnings: list[str] = field(default_factory=list)
    """Things the person must act on (printed as `warning:` lines), e.g. a key withheld from a host."""


class ExportError(ValueError):
    """The prototype cannot be exported as asked; the message says what to change."""


def slug(text: str, fallback: str = "item") -> str:
    """A file- and id-safe name: lower-case letters, digits, `-` and `_`."""
    out = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")
    return out or fallback


__all__ = ["BuildMessages", "Endpoint", "ExportError", "ExportResult", "slug"]
