"""The HTTP library the installed `openai` SDK is built on: `httpx2` for openai 3.x, `httpx` before.

Only its exception classes are used here, to tell a cut stream from a refused connection.
"""

from __future__ import annotations

try:
    import httpx2 as httpx
except ImportError:  # pragma: no cover - openai < 3
    import httpx  # type: ignore[no-redef]

__all__ = ["httpx"]
