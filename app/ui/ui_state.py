"""Small UI memory kept between sessions: recent files, window geometry, splitter positions, and
which profiles, models and cases are ticked in each file (per user: shared prototypes stay clean).

Stored as JSON under `settings_dir()` and written atomically. Never holds a key or prototype data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.core import jsontext
from app.core.atomic import remove_stale_temps, write_atomic
from app.core.paths import settings_dir

FILE_NAME = "ui-state.json"
MAX_RECENT = 10
MAX_SELECTIONS = 50
"""Files whose ticked items are remembered; the least recently used are forgotten first."""


class UiState:
    """A dict-backed store; `save()` writes it. Unreadable files are ignored, not fatal."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_dir() / FILE_NAME
        self.data: dict[str, Any] = {}
        remove_stale_temps(self.path)  # left by an app killed mid-save (never a save in progress)
        try:
            loaded = jsontext.loads(self.path.read_text(encoding="utf-8"))
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

    # -- ticked items per file ---------------------------------------------------------------------

    def selection_for(self, path: Path | None) -> dict[str, list[str]] | None:
        """The items unticked in that file last time ({kind: [ids]}), or None when never opened here."""
        if path is None:
            return None
        saved = self.data.get("selections", {})
        entry = saved.get(_file_key(path)) if isinstance(saved, dict) else None
        if not isinstance(entry, dict):
            return None
        return {kind: [i for i in ids if isinstance(i, str)] for kind, ids in entry.items()
                if isinstance(kind, str) and isinstance(ids, list)}

    def set_selection(self, path: Path | None, hidden: dict[str, list[str]]) -> None:
        """Remember what is unticked in that file (most recent last; older files are dropped)."""
        if path is None:
            return
        saved = self.data.get("selections")
        if not isinstance(saved, dict):
            saved = {}
        key = _file_key(path)
        saved.pop(key, None)
        saved[key] = hidden
        while len(saved) > MAX_SELECTIONS:
            saved.pop(next(iter(saved)))
        self.data["selections"] = saved

    # -- per-file view memory (e.g. the grid's layout) ---------------------------------------------

    def per_file(self, section: str, path: Path | None) -> Any:
        """What `section` remembered for that file, or None."""
        saved = self.data.get(section)
        if path is None or not isinstance(saved, dict):
            return None
        return saved.get(_file_key(path))

    def set_per_file(self, section: str, path: Path | None, value: Any) -> None:
        """Remember `value` for that file (most recent last; older files are dropped)."""
        if path is None:
            return
        saved = self.data.get(section)
        if not isinstance(saved, dict):
            saved = {}
        key = _file_key(path)
        saved.pop(key, None)
        saved[key] = value
        while len(saved) > MAX_SELECTIONS:
            saved.pop(next(iter(saved)))
        self.data[section] = saved


def _file_key(path: Path) -> str:
    return str(path.resolve())

