"""The one retry policy: which failures are worth another try, and how long to wait first.

The hub uses it for its own calls (`complete`, judges, embeddings) and the engine for cells (it
calls the hub with `max_retries=0` so it can requeue a cell in its place instead of holding a
slot while it waits). Keeping it here means both retry the same failures with the same waits.
"""

from __future__ import annotations

from .events import ErrorKind

TRANSIENT = frozenset({ErrorKind.SERVER, ErrorKind.UNREACHABLE})
"""Retried with backoff when no text arrived yet. A timeout is not: the request already waited the
whole timeout, and waiting that long again (twice) is worse than reporting it."""
RATE_LIMITED = ErrorKind.RATE_LIMITED
BASE_WAIT_S = 0.5
MAX_BACKOFF_S = 8.0


def backoff(attempt: int, *, max_wait: float = MAX_BACKOFF_S) -> float:
    """Seconds before retry number `attempt + 1` of a transient failure: 0.5, 1, 2, ... capped."""
    return min(BASE_WAIT_S * 2.0**attempt, MAX_BACKOFF_S, max_wait)


def rate_limit_wait(retry_after: float | None, attempt: int, *, max_wait: float) -> float:
    """Seconds to pause a rate-limited target: the server's Retry-After, else 2^attempt, capped."""
    wait = retry_after if retry_after is not None else 2.0**attempt
    return min(max(wait, 0.0), max_wait)


def retryable(kind: ErrorKind) -> bool:
    return kind is RATE_LIMITED or kind in TRANSIENT
