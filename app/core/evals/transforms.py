"""Output transforms written the way promptfoo writes them (`transform: output.trim()`).

promptfoo runs any JavaScript expression on the output before an assertion checks it. Only
a fixed set of common, side-effect-free forms is understood here, so an imported transform is
either applied exactly or refused at import; nothing is guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from app.core import jsontext


def _json_reformat(output: str) -> str:
    """`JSON.stringify(JSON.parse(output))`: compact JSON; an unparsable output is left as it is."""
    try:
        return json.dumps(jsontext.loads(output), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return output


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "output.trim()": str.strip,
    "output.toLowerCase()": str.lower,
    "output.toUpperCase()": str.upper,
    "output.toLowerCase().trim()": lambda s: s.lower().strip(),
    "output.trim().toLowerCase()": lambda s: s.strip().lower(),
    "output.replace(/\\s+/g, ' ')": lambda s: re.sub(r"\s+", " ", s),
    "output.replace(/\\s+/g, ' ').trim()": lambda s: re.sub(r"\s+", " ", s).strip(),
    "JSON.stringify(JSON.parse(output))": _json_reformat,
}
"""Known transforms, by their promptfoo expression with spaces normalised (see `normalize`)."""

_SPACES_RE = re.compile(r"\s+")


def normalize(expression: str) -> str:
    """The expression as a key of TRANSFORMS: surrounding space, a `return` and a final `;` ignored."""
    text = expression.strip().rstrip(";").strip()
    if text.startswith("return "):
        text = text[len("return ") :].strip()
    return _SPACES_RE.sub(" ", text).replace("( ", "(").replace(" )", ")")


def known(expression: str) -> str | None:
    """The canonical form of a known transform, or None."""
    key = normalize(expression)
    return key if key in TRANSFORMS else None


def apply(expression: str | None, output: str) -> str:
    """`output` transformed; an unknown expression raises ValueError (validation catches it first)."""
    if expression is None:
        return output
    key = known(expression)
    if key is None:
        raise ValueError(f"unknown transform {expression!r}; known: {', '.join(TRANSFORMS)}")
    return TRANSFORMS[key](output)
