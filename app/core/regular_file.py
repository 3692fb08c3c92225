"""Reading a file someone handed us, safely: only a regular file, and only up to a size limit.

`open()` on a FIFO with no writer blocks forever, and `/dev/zero` (or a symlink to it) has size 0
and never ends, so checking `stat()` first and then reading the path is not enough. The file is
opened non-blocking and `fstat` on the open handle decides (the check and the read see the same
file); the read itself is bounded. Prototypes (`core/document.py`), promptfoo configs and the files
they reference, merge inputs and the journal all read through here.
"""

from __future__ import annotations

import os
import stat


class NotReadable(OSError):
    """Not a regular file, too large, or not UTF-8 text; the message says which, in plain words."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{os.fspath(path)} {reason}")
        self.reason = reason
        """What is wrong, as a predicate: "is a pipe (FIFO), not a regular file"."""


def file_kind(mode: int) -> str:
    """What a non-regular file is, for a message."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file"


def read_regular_bytes(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of the regular file at `path`, at most `max_bytes` of them.

    Raises FileNotFoundError, NotReadable (a FIFO, device, folder or socket; larger than the limit)
    or another OSError, never blocks on a FIFO and never reads more than `max_bytes + 1` bytes."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise NotReadable(path, "is a folder, not a regular file") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotReadable(path, f"is {file_kind(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes:
            raise NotReadable(path, f"is larger than {_size(max_bytes)}")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)  # bounded: a file growing meanwhile cannot exhaust memory
    if len(data) > max_bytes:
        raise NotReadable(path, f"is larger than {_size(max_bytes)}")
    return data


def read_regular_text(path: str | os.PathLike[str], max_bytes: int) -> str:
    """`read_regular_bytes` decoded as UTF-8 (a BOM is dropped); NotReadable when it is not UTF-8."""
    data = read_regular_bytes(path, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotReadable(path, f"is not UTF-8 text (byte {exc.start + 1})") from None


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 else f"{n} bytes"


__all__ = ["NotReadable", "file_kind", "read_regular_bytes", "read_regular_text"]
