"""The one way a cost in USD is written for people: the grid, the status bar, `run` and `ask`."""

from __future__ import annotations


def format_cost(usd: float | None, *, partial: bool = False) -> str:
    """`cost ?` when unknown, `free` at zero, else dollars with enough digits to not read as zero.

    `partial`: some of the calls behind this sum had no price, so it is a lower bound (`+?`).
    """
    if usd is None:
        return "cost ?"
    if usd == 0:
        text = "free"
    elif usd >= 0.0001:
        text = f"${usd:.4f}"
    else:
        text = f"${usd:.6f}"
    return text + ("+?" if partial else "")


__all__ = ["format_cost"]
