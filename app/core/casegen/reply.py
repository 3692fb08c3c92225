"""One proposal as a model writes it: the JSON schema asked for, and a forgiving reader.

The bundled model decodes under `PROPOSAL_FORMAT`'s grammar, so its reply always parses. Hosted
models may wrap the object in a code fence or prose; the reader takes the first JSON object in the
text. A reply that still does not give a usable proposal is a `ReplyProblem` (counted as a failure
by the caller), never an exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.core import jsontext
from app.core.casegen.checks import CHECK_SCHEMA, MAX_CHECKS

MESSAGE_MAX_CHARS = 600
DESCRIPTION_MAX_CHARS = 200

PROPOSAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    # the description comes first, so a model that writes left to right decides what to test first
    "properties": {
        "description": {"type": "string", "minLength": 1, "maxLength": DESCRIPTION_MAX_CHARS},
        "user_message": {"type": "string", "minLength": 1, "maxLength": MESSAGE_MAX_CHARS},
        "checks": {"type": "array", "items": CHECK_SCHEMA, "maxItems": MAX_CHECKS},
    },
    "required": ["description", "user_message", "checks"],
    "additionalProperties": False,
}
"""One proposed case with the checks a good answer passes (`checks.py`; an empty list is fine). The
length caps keep a complete reply inside the token cap. `checks` is required so the schema suits
OpenAI's strict mode; the reader accepts a reply without it."""

PROPOSAL_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "proposed_case", "schema": PROPOSAL_SCHEMA, "strict": True},
}
"""The OpenAI `response_format` asking for a `PROPOSAL_SCHEMA` object."""

REPLY_KEYS = ("description", "user_message", "checks")


@dataclass(frozen=True)
class ProposedText:
    """What a reply proposes: the user's message and what the case checks."""

    user_message: str
    description: str
    checks: Any = None
    """The reply's `checks` as written; `checks.read_checks` validates them against the probed rule."""


@dataclass(frozen=True)
class ReplyProblem:
    """Why a reply gave no proposal, with the start of the reply for the designer to see."""

    reason: str
    excerpt: str


def read_reply(text: str) -> ProposedText | ReplyProblem:
    """The proposal in a model's reply, or why there is none. Never raises."""
    excerpt = " ".join(text.split())[:160]
    data = _first_object(text)
    if data is None:
        return ReplyProblem("the reply holds no JSON object", excerpt)
    message = data.get("user_message")
    if message is None:  # tolerate a hosted model's synonyms
        message = next((data[k] for k in ("message", "prompt", "input", "user") if k in data), None)
    description = data.get("description", "")
    if not isinstance(message, str) or not message.strip():
        return ReplyProblem('the reply has no "user_message" text', excerpt)
    if not isinstance(description, str):
        description = ""
    message = _unquote(message.strip())
    if len(message) > MESSAGE_MAX_CHARS:
        return ReplyProblem(f"the user message is longer than {MESSAGE_MAX_CHARS} characters", excerpt)
    description = " ".join(description.split())[:DESCRIPTION_MAX_CHARS]
    return ProposedText(user_message=message, description=description, checks=data.get("checks"))


def _first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text`: the whole text, else from each `{` on (fences and prose skipped)."""
    stripped = text.strip()
    try:
        data = jsontext.loads(stripped)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    decoder = json.JSONDecoder()
    start = stripped.find("{")
    while start != -1:
        try:
            data, _end = decoder.raw_decode(stripped, start)
        except (ValueError, RecursionError):  # RecursionError: nested too deep (see `jsontext`)
            data = None
        if isinstance(data, dict):
            return data
        start = stripped.find("{", start + 1)
    return None


def _unquote(message: str) -> str:
    """A model sometimes wraps the message in quotes; the user would not type them."""
    if len(message) >= 2 and message[0] == message[-1] and message[0] in "\"'“":
        return message[1:-1].strip() or message
    if len(message) >= 2 and message[0] == "“" and message[-1] == "”":
        return message[1:-1].strip() or message
    return message
