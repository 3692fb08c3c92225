"""Who is rating: the name stamped on every thumb, note, tag and vote.

One rule for the GUI and the CLI: `--rater NAME`, else `PROTOSTUDIO_RATER`, else the display name
(and optional email) saved in Settings, else the OS login name. Stored in `settings_dir()/rater.json`,
written atomically; it holds a name and an email, never a key.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import dataclass
from pathlib import Path

from app.core import jsontext
from app.core.atomic import remove_stale_temps, write_atomic
from app.core.paths import settings_dir

RATER_ENV = "PROTOSTUDIO_RATER"
FILE_NAME = "rater.json"


@dataclass(frozen=True)
class Identity:
    """A display name plus an optional email, as typed in Settings."""

    name: str = ""
    email: str = ""

    @property
    def rater(self) -> str:
        """`Name <email>` like git, or just the name; empty when no name is set."""
        name, email = self.name.strip(), self.email.strip()
        if not name:
            return ""
        return f"{name} <{email}>" if email else name


def _path() -> Path:
    return settings_dir() / FILE_NAME


def load_identity() -> Identity:
    """The saved identity; an empty one when none was saved or the file is unreadable."""
    try:
        data = jsontext.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Identity()
    if not isinstance(data, dict):
        return Identity()
    name, email = data.get("name", ""), data.get("email", "")
    return Identity(name if isinstance(name, str) else "", email if isinstance(email, str) else "")


def save_identity(identity: Identity) -> None:
    payload = {"name": identity.name.strip(), "email": identity.email.strip()}
    remove_stale_temps(_path())  # a save killed earlier left its temp file; no one else will
    write_atomic(_path(), (json.dumps(payload, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def os_login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in some containers
        return ""


def current_rater(explicit: str | None = None) -> str:
    """The rater for this session: flag, then environment, then Settings, then OS login, then "unknown"."""
    for candidate in (explicit, os.environ.get(RATER_ENV), load_identity().rater, os_login_name()):
        if candidate and candidate.strip():
            return candidate.strip()
    return "unknown"
