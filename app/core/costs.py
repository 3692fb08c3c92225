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


def batch_cost(usd: float | None, unknown: int) -> str:
    """A batch's cost for a progress line: "" while no call that was billed has ended (no answer
    yet, or every call failed), else `format_cost`. "cost ?" then read as a price problem at the
    start of every run, beside "(+ simulated user: ..., free)"."""
    if usd is None and not unknown:
        return ""
    return format_cost(usd, partial=unknown > 0)


__all__ = ["batch_cost", "format_cost"]
