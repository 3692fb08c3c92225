"""Atomic file writes: a crash mid-save leaves the old file or the new one, never a torn one."""

from __future__ import annotations

import contextlib
import os
import tempfile
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
