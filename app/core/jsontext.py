"""JSON from outside (model output, tool arguments, provider streams, files on disk), read safely.

`json.loads` raises RecursionError, not ValueError, on arrays or objects nested past Python's
recursion limit: `"[" * 1000` is enough, and `"[" * 3000 + "]" * 3000` is valid JSON. Every
caller that catches ValueError for "not JSON" would let that escape, so a model could crash a
check, a preview or a stream with one line of brackets. This reports it as JSON that cannot be read.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH_MESSAGE = "nested too deep to read"


def loads(text: str | bytes) -> Any:
    """`json.loads`, raising `json.JSONDecodeError` (a ValueError) for nesting too deep as for any
    other unreadable JSON, at the bracket where the nesting became too deep."""
    try:
        return json.loads(text)
    except RecursionError:
        document = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
        raise json.JSONDecodeError(MAX_DEPTH_MESSAGE, document, _deep_position(document)) from None


def _deep_position(text: str, limit: int = 500) -> int:
    """Where brackets outside strings first nest deeper than `limit` (0 if they never do)."""
    depth = 0
    in_string = escaped = False
    for position, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return position
        elif char in "]}":
            depth -= 1
    return 0
