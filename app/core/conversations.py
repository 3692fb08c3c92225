"""Simulated conversations as records for reports: who wrote each user message, what it said, the
reply, and how the conversation ended. `run --json` and `eval --json` both list `conversations`;
this is the one shape of an entry, so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core.prototype import ConversationEnd, Run
from app.core.simulation import end_words
from app.core.tools import without_tool_rounds

FAULTS = ("simulator_fault", "reply_fault")
"""Ends that mean something went wrong (the thread is marked)."""


def said(run: Run) -> str:
    """The user message a run answers when a simulated user or a script wrote it, else "".
    A reply that called a tool ends its messages with the tool round, after that message."""
    messages = without_tool_rounds(run.messages)
    if run.user_turn is None or not messages or messages[-1].role != "user":
        return ""
    return messages[-1].content


def user_turns(replies: Sequence[Run]) -> int:
    """How many user messages the simulated user (or its script) wrote in this conversation."""
    return sum(bool(said(run)) for run in replies)


def conversation_end(replies: Sequence[Run]) -> ConversationEnd | None:
    """The end stored on the conversation's last run that has one (None: not recorded)."""
    return next((run.conversation_end for run in reversed(replies) if run.conversation_end), None)


def conversation_json(replies: Sequence[Run]) -> dict[str, Any]:
    """One `conversations` entry: the cell, the user turns written, how it ended, and each turn."""
    root = replies[0]
    end = conversation_end(replies)
    return {
        "case": root.case,
        "profile": root.profile,
        "model": root.model,
        "sample": root.sample,
        "user_turns": user_turns(replies),
        "reason": end_words(end) if end is not None else "",
        "failed": end is not None and end.by in FAULTS,
        "end": end.model_dump(mode="json") if end is not None else None,
        "turns": [
            {"run": run.id, "source": run.user_turn, "user": said(run), "reply": run.output,
             "status": run.status, "error": run.error}
            for run in replies
        ],
    }


__all__ = ["FAULTS", "conversation_end", "conversation_json", "said", "user_turns"]
