"""Turn problems found on the loaded document (each at a path such as `("cases", 2, "assert", 0)`)
into `file:line:col` problems, parsing the text once however many checks found something."""

from __future__ import annotations

from collections.abc import Sequence

from app.core.errors import Problem
from app.core.yamlio import Located, YamlSyntaxError, load_located

Found = tuple[tuple[str | int, ...], str]
"""(path in the document, message): what the checks of assertions, probes and images return."""


def locate(found: Sequence[Found], filename: str, text: str | None) -> list[Problem]:
    """One Problem per finding, at its place in `text` (1:1 when the text is not given or unreadable)."""
    located: Located | None = None
    if found and text is not None:
        try:
            located = load_located(text)
        except YamlSyntaxError:
            located = None
    problems = []
    for path, message in found:
        mark = located.mark_for(path) if located else None
        problems.append(Problem(filename, mark.line if mark else 1, mark.col if mark else 1, message))
    return problems
