"""promptfoo's simulated conversation as seen by a check: the model's replies, the last one.

promptfoo's simulated user returns the whole transcript as the output and the messages in
`metadata.messages`, which both a check's `transform` and a `javascript` check get as
`context.metadata`. Kept apart from the assertion mapping so the import can read these back
without a cycle between modules.
"""

from __future__ import annotations

import re
from typing import Any


def replies_js(skip: int) -> str:
    """JavaScript for the model's replies in promptfoo's simulated conversation, after the `skip`
    messages the test started from (fixed history is not a reply)."""
    return (f"((context.metadata || {{}}).messages || []).slice({skip})"
            ".filter((m) => m.role === 'assistant').map((m) => String(m.content))")


def last_reply_transform(skip: int, original: str | None) -> str:
    """The `transform` that gives a check the last reply instead of the whole transcript, applying
    the assertion's own transform (an expression of `output`) to it."""
    last = f"({replies_js(skip)}.pop() ?? '')"
    return last if original is None else f"((output) => ({original}))({last})"


_SKIP_RE = re.compile(r"\.slice\((\d+)\)")


def read_last_reply_transform(transform: Any) -> tuple[bool, str | None]:
    """Whether `transform` is one `last_reply_transform` wrote, and the assertion's own transform in it."""
    if not isinstance(transform, str):
        return False, None
    found = list(_SKIP_RE.finditer(transform))
    if not found:
        return False, None
    last = last_reply_transform(int(found[-1].group(1)), None)
    if transform == last:
        return True, None
    head, tail = "((output) => (", "))(" + last + ")"
    if transform.startswith(head) and transform.endswith(tail) and len(transform) > len(head) + len(tail):
        return True, transform[len(head):-len(tail)]
    return False, None
