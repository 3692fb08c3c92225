"""An append-only journal of finished cells, so a SIGKILL loses none of them.

A headless run saves the prototype file debounced (a big file takes a while to write), so a kill
between two saves would lose the cells finished since the last one. Each finished cell is
therefore also appended here at once, as one JSON line, written before the run goes on: once
`os.write` returns the line is the kernel's, and a SIGKILL cannot lose it. fsync (which only
power loss or an OS crash needs) is either done at once (`append_many(sync=True)`) or left to the
caller (`sync=False`, then `sync()`): `ResultWriter` fsyncs in a worker thread, coalescing the
cells that end meanwhile, because fsync on the event loop stalled every stream (1-5 ms a cell).
The next `run`, `eval`, status or open folds the journal into the file (`recover`), saves it
atomically and then deletes the journal.

The journal lives beside its file: `.NAME.journal.jsonl`. A record holds the Run as its dict
(`{"protostudio": FORMAT_VERSION, "run": {...}}`), so a change to the Run format composes: records
are validated against the current models when folded. How a simulated conversation ended comes
after its last run, as its own record (`{"protostudio": FORMAT_VERSION, "end": {"run": ID, ...}}`),
so a kill after a conversation ends cannot lose why it stopped; an older reader skips it.
A torn last line (the kill hit mid-write)
and any unreadable line are skipped, never fatal; a run already in the file (same id) is not
added twice, so a kill between "file saved" and "journal deleted" is harmless.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.core import jsontext
from app.core.prototype import FORMAT_VERSION, ConversationEnd, Prototype, Run
from app.core.regular_file import NotReadable, read_regular_bytes
from app.core.results import record_conversation_end, record_runs

MAX_JOURNAL_BYTES = 2**30
"""A journal larger than this is not read (it cannot be one of ours: the file it belongs to is
limited to 64 MiB)."""


def journal_path(path: str | os.PathLike[str]) -> Path:
    """Where the journal of the prototype at `path` lives: a hidden file beside it."""
    target = Path(path)
    return target.with_name(f".{target.name}.journal.jsonl")


class Journal:
    """Appends finished runs to the journal of one prototype file. Not thread-safe: one writer."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = journal_path(path)
        self._fd: int | None = None
        self.unsynced = False
        """Something was written since the last fsync began."""

    def append(self, run: Run) -> None:
        """Write one record and fsync it; when this returns, the run survives a SIGKILL."""
        self.append_many([run])

    def append_many(self, runs: Iterable[Run], *, sync: bool = True) -> None:
        """Write the records; when this returns they survive a SIGKILL. `sync=False` leaves the
        fsync to a later `sync()`."""
        self._write([_record(run) for run in runs], sync=sync)

    def append_end(self, run_id: str, end: ConversationEnd, *, sync: bool = True) -> None:
        """Write how the conversation whose last stored run is `run_id` ended (after that run's
        own record); when this returns it survives a SIGKILL."""
        self._write([_end_record(run_id, end)], sync=sync)

    def _write(self, lines: list[str], *, sync: bool) -> None:
        if not lines:
            return
        if self._fd is None:
            # O_NOFOLLOW: a journal planted as a symlink (a shared folder, a git checkout) must not
            # make us append to whatever it points at; O_NONBLOCK: a planted FIFO must not hang us
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
            flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            fd = os.open(self.path, flags, 0o600)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise NotReadable(self.path, "is not a regular file; the journal cannot be written")
            self._fd = fd
        data = "".join(lines).encode("utf-8")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]
        if sync:
            os.fsync(self._fd)
        else:
            self.unsynced = True

    def sync(self) -> None:
        """fsync what was written so far. May run in another thread than `append_many`, but not
        at the same time as `close` or `discard`."""
        self.unsynced = False  # cleared first: a write during the fsync asks for another one
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def discard(self) -> None:
        """The file now holds every journaled run: close and delete the journal."""
        self.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def _record(run: Run) -> str:
    payload = {"protostudio": FORMAT_VERSION, "run": run.model_dump(mode="json", by_alias=True)}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n"


def _end_record(run_id: str, end: ConversationEnd) -> str:
    payload = {"protostudio": FORMAT_VERSION, "end": {"run": run_id, **end.model_dump(mode="json")}}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass
class JournalRead:
    """What a journal held: the runs that could be read, and how many lines could not."""

    runs: list[Run] = field(default_factory=list)
    ends: list[tuple[str, ConversationEnd]] = field(default_factory=list)
    """How conversations ended: (id of the last stored run, the end), in the order written."""
    skipped: int = 0
    """Unreadable lines: a torn last line after a kill, or a record from another format version."""


def read_journal(path: str | os.PathLike[str]) -> JournalRead:
    """The runs in the journal of the prototype at `path` (none when there is no journal)."""
    result = JournalRead()
    try:  # never a FIFO or /dev/zero planted in its place, never unbounded
        raw = read_regular_bytes(journal_path(path), MAX_JOURNAL_BYTES)
    except FileNotFoundError:
        return result
    except NotReadable:
        result.skipped += 1
        return result
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        record = _parse_line(line)
        if isinstance(record, Run):
            result.runs.append(record)
        elif record is not None:
            result.ends.append(record)
        else:
            result.skipped += 1
    return result


def _parse_line(line: bytes) -> Run | tuple[str, ConversationEnd] | None:
    try:
        payload: Any = jsontext.loads(line)
        if not isinstance(payload, dict) or payload.get("protostudio") != FORMAT_VERSION:
            return None
        if "end" in payload:
            end = dict(payload["end"])
            run_id = end.pop("run")
            if not isinstance(run_id, str):
                return None
            return run_id, ConversationEnd.model_validate(end)
        return Run.model_validate(payload["run"])
    except (ValueError, KeyError, TypeError, ValidationError):
        return None


def fold(proto: Prototype, runs: Iterable[Run]) -> int:
    """Append the journaled runs the prototype does not have yet; returns how many were added.

    Skipped: a run whose id is already there, and one whose case, profile or model is no longer in
    the file, or that continues a run the file does not have (the file was edited since)."""
    ids = {r.id for r in proto.runs}
    cases = {c.id for c in proto.cases}
    profiles = {p.id for p in proto.profiles}
    models = {m.id for m in proto.models}
    added = 0
    for run in runs:
        if run.id in ids or run.case not in cases or run.profile not in profiles or run.model not in models:
            continue
        if run.parent is not None and run.parent not in ids:
            continue
        added += len(record_runs(proto, [run]).added)  # the one storing policy (core/results.py)
        ids.add(run.id)
    return added


def fold_ends(proto: Prototype, ends: Iterable[tuple[str, ConversationEnd]]) -> int:
    """Store the journaled conversation ends on their runs; returns how many runs changed (a run
    no longer in the file, or already saying so, is skipped)."""
    return sum(record_conversation_end(proto, run_id, end) is not None for run_id, end in ends)


def has_journal(path: str | os.PathLike[str]) -> bool:
    return journal_path(path).exists()


def load_recovering(path: str | os.PathLike[str]) -> tuple[Prototype, int]:
    """Load the prototype at `path` with any left-over journal folded in (saved, then deleted).

    Returns the prototype and how many runs were recovered. Raises PrototypeError when the file
    cannot be loaded and OSError when the recovered file cannot be saved; either way the journal
    is kept for a later try.
    """
    from app.core.document import load_prototype, save_prototype

    proto = load_prototype(path)
    if not has_journal(path):
        return proto, 0
    read = read_journal(path)
    added = fold(proto, read.runs)
    ended = fold_ends(proto, read.ends)
    if added or ended:
        save_prototype(proto, path)
    Journal(path).discard()
    return proto, added
