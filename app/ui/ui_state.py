"""Small UI memory kept between sessions: recent files, window geometry, splitter positions.

Stored as JSON under `settings_dir()` and written atomically. Never holds a key or prototype data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.core.atomic import write_atomic
from app.core.paths import settings_dir

FILE_NAME = "ui-state.json"
MAX_RECENT = 10


class UiState:
    """A dict-backed store; `save()` writes it. Unreadable files are ignored, not fatal."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_dir() / FILE_NAME
        self.data: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self.data = loaded
        except (OSError, ValueError):
            pass

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value

    def encoded(self) -> bytes:
        """A snapshot to write later (off the GUI thread: `write_atomic` fsyncs)."""
        return json.dumps(self.data, indent=1, sort_keys=True).encode("utf-8")

    def save(self) -> None:
        """Write now, on the calling thread (closing the app); elsewhere use `FileOps`' background write."""
        write_atomic(self.path, self.encoded())

    # -- recent files ------------------------------------------------------------------------------

    def recent_files(self) -> list[Path]:
        items = self.data.get("recent", [])
        return [Path(p) for p in items if isinstance(p, str)] if isinstance(items, list) else []

    def add_recent(self, path: Path) -> None:
        text = str(path.resolve())
        recent = [str(p) for p in self.recent_files() if str(p) != text]
        self.data["recent"] = [text, *recent][:MAX_RECENT]

    def last_file(self) -> Path | None:
        for path in self.recent_files():
            if path.is_file():
                return path
        return None
