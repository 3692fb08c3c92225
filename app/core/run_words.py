"""The words a person reads about runs: how a batch ended ("12 done, 4 cancelled") and why a cell
has no full answer. One home, so the grid's status bar, its cells and the CLI can't disagree.
"""

from __future__ import annotations

from app.core.costs import format_cost
from app.core.prototype import Run

RAISE_TIMEOUT_HINT = "raise the timeout"
"""Error texts that contain this get a way to raise the model's timeout right there."""


def progress_words(done: int, total: int, failed: int = 0, cancelled: int = 0, *, running: bool,
                   replies: bool = False) -> str:
    """While running: "8 of 16 done". Once ended, count what actually happened:
    "12 done, 4 cancelled" (cancelled and failed cells are not "done").

    `replies`: the batch has simulated conversations, whose count is replies (a conversation may end
    early, so the total only shrinks): "3 of up to 14 replies"; each cell says its own turn."""
    if running:
        extra = f" · {failed} failed" if failed else ""
        if replies:
            return f"{done} of up to {total} replies{extra}"
        return f"{done} of {total} done{extra}"
    answered = max(0, done - failed - cancelled)
    parts = [f"{answered} done"]
    if failed:
        parts.append(f"{failed} failed")
    if cancelled:
        parts.append(f"{cancelled} cancelled")
    if total > done:
        parts.append(f"{total - done} not started")
    return ", ".join(parts)


def source_word(run: Run) -> str:
    """The second word of a cell's status line: "cached" or "live" for an answer; for a run that
    gave none, what happened ("failed" read as "live" before, which looked like a fresh answer)."""
    if run.status == "ok":
        return "cached" if run.cached else "live"
    return {"cancelled": "stopped", "cut": "cut off"}.get(run.status, "failed")


def failure_words(run: Run) -> str:
    """Why this answer is missing or partial, said once: the error text, plus whether the partial
    answer was kept only when the error did not already say so."""
    if run.status == "ok":
        return ""
    lead = {"cancelled": "Stopped.", "cut": "The answer was cut off."}.get(run.status, "This cell failed.")
    detail = (run.error or "").strip()
    words = f"{lead} {detail}".strip() if detail and detail != lead else lead
    if run.output and "partial answer" not in detail.lower():
        words += " The partial answer above is kept."
    return words


def unstored_words(run: Run) -> str:
    """What a cell says when its run ended with nothing to store (stopped before any text): without
    it, a cell stopped while its request hung went blank, as if it had never run."""
    if run.status == "ok":
        return ""
    words = failure_words(run)
    return f"{words} No answer had arrived, so nothing was stored." if not run.output else words


def asks_for_longer_timeout(run: Run) -> bool:
    return run.status != "ok" and RAISE_TIMEOUT_HINT in (run.error or "").lower()


def simulator_words(calls: int, tokens: int, cost_usd: float | None, cost_unknown: int = 0) -> str:
    """A simulated user's own model calls, e.g. "simulated user: 3 calls, 412 tokens, $0.0004"; ""
    with none. Counted apart from the cells (they answer no profile), so the cell figures keep
    their meaning and the total cost of a run is both."""
    if not calls:
        return ""
    cost = format_cost(cost_usd, partial=cost_unknown > 0)
    return f"simulated user: {calls} call{'s' if calls != 1 else ''}, {tokens:,} tokens, {cost}"
