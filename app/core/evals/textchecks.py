"""Plain-text facts about an output: list items, markdown, refusals, JSON. Pure functions, no I/O.

These are heuristics, written down so a designer can predict them:
- a *list item* is a line starting with `-`, `*`, `+` or `1.` / `1)` followed by text (nested items count);
- *markdown* is any of: headings, list items, bold, inline code or fences, links, tables, block quotes, rules;
- a *refusal* is an empty output or one containing a phrase from `REFUSAL_PHRASES`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app.core import jsontext

_BULLET_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+\S", re.MULTILINE)
_FENCED_JSON_RE = re.compile(r"^```(?:json|JSON)?[ \t]*\n(.*?)\n?```$", re.DOTALL)

MARKDOWN_PATTERNS: dict[str, re.Pattern[str]] = {
    "headings": re.compile(r"^\s{0,3}#{1,6}\s+\S", re.MULTILINE),
    "list items": _BULLET_RE,
    "bold text": re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"),
    "italic text": re.compile(r"(?<![*\w])\*(?![\s*])[^*\n]+(?<!\s)\*(?!\*)"),
    "code": re.compile(r"```|`[^`\n]+`"),
    # links and tables are written so no input backtracks badly (20 KB of spaces or `[` took seconds)
    "links": re.compile(r"\[[^\[\]\n]+\]\((?:[^()\s]|\([^()\s]*\))+\)"),
    "tables": re.compile(r"^[ \t]*(?:\|[ \t]*)?:?-{3,}:?[ \t]*\|", re.MULTILINE),
    "block quotes": re.compile(r"^\s{0,3}>\s", re.MULTILINE),
    "horizontal rules": re.compile(r"^\s{0,3}(?:-{3,}|\*{3,}|_{3,})\s*$", re.MULTILINE),
}
"""What `no-markdown` looks for, by the name used in its reason."""

REFUSAL_PHRASES: tuple[str, ...] = (
    "i can't help",
    "i cannot help",
    "i can not help",
    "i can't assist",
    "i cannot assist",
    "i can't provide",
    "i cannot provide",
    "i can't do that",
    "i cannot do that",
    "i can't comply",
    "i cannot comply",
    "i'm sorry, but i",
    "i am sorry, but i",
    "i'm unable to",
    "i am unable to",
    "i'm not able to",
    "i am not able to",
    "i won't be able to",
    "i will not be able to",
    "i won't help",
    "i will not help",
    "i won't provide",
    "i will not provide",
    "i must decline",
    "i have to decline",
    "i'm afraid i can't",
    "i'm afraid i cannot",
    "i'm not comfortable",
    "as an ai",
    "i'm just an ai",
    "i cannot fulfill",
    "i can't fulfill",
    "not something i can help with",
    "i'm not allowed to",
    "i am not allowed to",
)
"""Lower-case phrases (straight apostrophes) that mark a refusal for `is-refusal`, matched anywhere."""


def words(text: str) -> int:
    """Whitespace-separated words."""
    return len(text.split())


def list_items(text: str) -> int:
    """Markdown list items (bulleted or numbered), nested ones included."""
    return len(_BULLET_RE.findall(text))


def markdown_found(text: str) -> dict[str, int]:
    """Kinds of markdown in `text` and how many of each; empty for plain text."""
    found: dict[str, int] = {}
    for name, pattern in MARKDOWN_PATTERNS.items():
        count = len(pattern.findall(text))
        if count:
            found[name] = count
    return found


def refusal_phrase(text: str) -> str | None:
    """The refusal phrase found in `text` ("" for an empty output), or None when it is not a refusal."""
    if not text.strip():
        return ""
    lowered = " ".join(text.lower().replace("\u2019", "'").split())
    for phrase in REFUSAL_PHRASES:
        if phrase in lowered:
            return phrase
    return None


def parse_json_output(text: str) -> tuple[Any, bool]:
    """The JSON value of an output, and whether it was inside a ```json fence. Raises ValueError."""
    stripped = text.strip()
    fenced = _FENCED_JSON_RE.match(stripped)
    body = fenced.group(1) if fenced else stripped
    if not body:
        raise ValueError("the output is empty")
    try:
        return jsontext.loads(body), bool(fenced)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from None


def one_line(text: str, limit: int = 60) -> str:
    """`text` on one line, cut with an ellipsis past `limit` characters, for reasons and tables."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def quoted(text: str, limit: int = 60) -> str:
    return '"' + one_line(text, limit) + '"'
