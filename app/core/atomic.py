"""Atomic file writes: a crash mid-save leaves the old file or the new one, never a torn one."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a temp file beside `path`, fsync it, then `os.replace` it into place.

    The temp file lives in the same folder so the rename never crosses file systems.
    The folder is fsynced too, so the rename itself survives a power cut on POSIX.
    """
    target = Path(path)
    if target.is_symlink():  # write through the link, do not replace the link with a file
        target = target.resolve()
    folder = target.parent if str(target.parent) else Path(".")
    # keep an existing file's permissions; a new file gets the usual ones, not mkstemp's 0600
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_UMASK
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


STALE_TEMP_AGE_S = 120.0
"""A temp file untouched this long is left over from a killed process: a live save keeps writing
to its temp file and renames it within seconds, even for the largest prototype."""


def temp_name_pattern(name: str) -> re.Pattern[str]:
    """What `write_atomic`'s temp files for a file called `name` look like (mkstemp's 8 random chars)."""
    return re.compile(rf"^\.{re.escape(name)}\.[A-Za-z0-9_]{{8}}\.tmp$")


def remove_stale_temps(path: str | os.PathLike[str], *, older_than: float = STALE_TEMP_AGE_S) -> int:
    """Delete `write_atomic` temp files for `path` left by a killed process; returns how many.

    Only our own naming pattern, and only files older than `older_than` seconds, so another
    process's save in progress is never touched. Errors are ignored: cleanup must never fail a load.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    return _remove_matching(folder, temp_name_pattern(target.name), older_than)


def remove_stale_temps_in(folder: str | os.PathLike[str], *, older_than: float = STALE_TEMP_AGE_S,
                          recursive: bool = False) -> int:
    """Delete every stale `write_atomic` temp file (`.NAME.XXXXXXXX.tmp`) in `folder` (and below)."""
    pattern = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
    root = Path(folder)
    folders = [root]
    if recursive:
        with contextlib.suppress(OSError):
            folders += [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()]
    return sum(_remove_matching(f, pattern, older_than) for f in folders)


def _remove_matching(folder: Path, pattern: re.Pattern[str], older_than: float) -> int:
    removed = 0
    cutoff = time.time() - older_than
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not pattern.match(entry.name):
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if entry.is_file(follow_symlinks=False) and info.st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
    return removed


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
