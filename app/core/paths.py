"""Where Protostudio keeps user settings, caches and state.

Defaults come from platformdirs. `PROTOSTUDIO_HOME` points all of them at one folder,
for tests and portable installs. Nothing here creates a folder until it is asked for.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "protostudio"
HOME_ENV = "PROTOSTUDIO_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value).expanduser() if value else None


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_dir() -> Path:
    """User settings: custom providers, prices, UI state. Never holds a key."""
    home = _home()
    return _ensure(home / "settings" if home else Path(platformdirs.user_config_dir(APP_NAME)))


def cache_dir() -> Path:
    """The response cache and other things safe to delete."""
    home = _home()
    return _ensure(home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME)))


def state_dir() -> Path:
    """Recovery files and logs."""
    home = _home()
    return _ensure(home / "state" if home else Path(platformdirs.user_state_dir(APP_NAME)))
