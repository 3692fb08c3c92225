"""How much markdown formatting one view lays out, so a model's answer cannot freeze the window.

Qt lays out every table cell and every emphasis span as its own piece, all at once, on the GUI
thread. Plain prose costs almost nothing, but a 10 x 100 table took 0.29 s in a chat bubble, a
10 x 300 one 0.93 s, and 2,500 `*a` pairs 0.18 s (`bench/bench_markdown.py`); twelve columns
answering the same "make a table of 300 rows" would stall the window for over ten seconds.
`within_budget` keeps the answer up to the line where its estimated layout cost runs out and says
so, as `clip` does for length. Code blocks cost nothing: Qt shows them as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass

_FENCES = ("```", "~~~")
_COST_US = {"|": 250, "*": 50, "_": 50, "<": 12, "&": 12}
"""Microseconds of layout per character, measured in a 220 px chat bubble (offscreen, this machine):
a table cell border, an emphasis mark, and the characters Qt escapes one at a time."""

PREVIEW_BUDGET_US = 50_000
"""A chat bubble in the grid: many are laid out together when a run lands."""
TEXT_VIEW_BUDGET_US = 250_000
"""The text view (`r`): one cell at a time, opened on purpose."""


@dataclass(frozen=True)
class Budgeted:
    text: str
    cut: bool
    """Whether the text was cut (the note is then part of `text`)."""


def line_cost(line: str) -> int:
    """Estimated layout microseconds of one line outside a code block."""
    return sum(line.count(char) * cost for char, cost in _COST_US.items())


def within_budget(text: str, budget_us: int, note: str) -> Budgeted:
    """`text` up to the line where its formatting would cost more than `budget_us` to lay out,
    then `note` as its own paragraph. A first line over the budget on its own is cut inside."""
    if line_cost(text) <= budget_us:  # code blocks counted too: an upper bound, in C-speed counts
        return Budgeted(text, False)
    spent = 0
    in_code = False
    position = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(_FENCES):
            in_code = not in_code
        elif not in_code:
            cost = line_cost(line)
            if spent + cost > budget_us:
                kept = text[:position] if position else _cut_inside(line, budget_us)
                return Budgeted(kept.rstrip("\n") + "\n\n" + note, True)
            spent += cost
        position += len(line)
    return Budgeted(text, False)


def _cut_inside(line: str, budget_us: int) -> str:
    spent = 0
    for index, char in enumerate(line):
        spent += _COST_US.get(char, 0)
        if spent > budget_us:
            return line[:index]
    return line
