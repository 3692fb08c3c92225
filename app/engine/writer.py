"""Saving results of a headless run as they come in, so an interrupted run loses no finished cell.

The writer stores each ended cell's Run by the core's policy (`app.core.results.record_runs`, the
one the GUI uses: no empty cancelled cells, no baseline answers, no repeat of a cached answer),
appends each stored run to the file's append-only journal (one line, written before anyone is
told, `app/core/journal.py`: that is what makes a finished cell survive a SIGKILL; the fsync
follows in a worker thread, one for all the cells that end meanwhile), and saves the file atomically,
debounced: at most one save per `interval`, stretched to 8x the last save's
duration so that saving a big file never dominates a run. Saves run in a worker thread on a
snapshot, so streaming goes on meanwhile. Call `flush()` at the end, and after a cancel: once the
file holds every run, the journal is deleted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from app.core.document import save_prototype
from app.core.journal import Journal
from app.core.prototype import Prototype, Run
from app.core.results import record_conversation_end, record_runs
from app.engine.events import CellCancelled, CellFailed, CellFinished, ConversationEnded, EngineEvent

log = logging.getLogger(__name__)


class ResultWriter:
    """Appends runs to `proto` (which it then owns for the run's duration) and saves it to `path`."""

    def __init__(self, proto: Prototype, path: str | os.PathLike[str], *, interval: float = 1.0,
                 journal: bool = True) -> None:
        self.proto = proto
        self.path = Path(path)
        self.interval = interval
        self.stored: dict[str, Run] = {}
        """Engine run id -> the run in the file for it (itself, or the stored answer a cache hit repeats)."""
        self.saved = 0
        """How many saves were written, for tests and the CLI's summary."""
        self._dirty = False
        self._last_duration = 0.0
        self._last_end = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._saving: asyncio.Task[None] | None = None
        self._journal = Journal(self.path) if journal else None
        self._journaled = False
        self._syncing: asyncio.Task[None] | None = None
        self._kept: dict[str, Run] = {}
        """Repeats not stored -> the stored run standing in (threads continuing them re-point there)."""

    def on_event(self, event: EngineEvent) -> None:
        """An engine event sink: stores ended cells by the core policy, then schedules a save."""
        if isinstance(event, ConversationEnded):
            self.end_conversation(event)
            return
        if not isinstance(event, CellFinished | CellFailed | CellCancelled):
            return
        self.add(event.run, baseline=event.cell.baseline)

    def end_conversation(self, event: ConversationEnded) -> None:
        """Store how a simulated conversation ended on its last stored run, journaled like a run (so
        a kill before the next save does not lose why it stopped), saved with the next save."""
        end = event.end
        if end is None or event.last_run is None:
            return
        target = record_conversation_end(self.proto, event.last_run, end, self._kept)
        if target is not None:
            self._journal_lines(lambda journal: journal.append_end(target.id, end, sync=False),
                                what=f"the end of the conversation at run {target.id}")
            self._dirty = True
            self._schedule()

    def add(self, run: Run, *, baseline: bool = False) -> None:
        recorded = record_runs(self.proto, [run], baseline=baseline, aliases=self._kept)
        stored = recorded.stored(run)
        if stored is not None:
            self.stored[run.id] = stored
        if recorded.added:
            self._journal_lines(lambda journal: journal.append_many(recorded.added, sync=False),
                                what=f"run {run.id}")
            self._dirty = True
            self._schedule()

    def _journal_lines(self, write: Callable[[Journal], None], *, what: str) -> None:
        """Append to the journal (survives a kill from here) and fsync it in a worker thread."""
        if self._journal is None:
            return
        try:
            write(self._journal)
            self._journaled = True
            self._sync_journal()
        except OSError:  # a full disk: the debounced save still keeps it unless killed
            log.warning("could not journal %s", what, exc_info=True)

    async def flush(self) -> None:
        """Write everything added so far, now; returns once it is on disk."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._saving is not None:
            await asyncio.shield(self._saving)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._dirty:
            await self._save()
        while self._syncing is not None:  # the journal's fd stays open until its fsync is done
            await asyncio.shield(self._syncing)
        if self._journal is not None and self._journaled and not self._dirty:
            self._journal.discard()  # the file holds every run now
            self._journaled = False

    # -- internals ----------------------------------------------------------------------------------

    def _sync_journal(self) -> None:
        """fsync the journal in a worker thread, off the event loop; one fsync at a time, so the
        cells that end during one are covered by the next."""
        if self._syncing is None:
            self._syncing = asyncio.get_running_loop().create_task(self._fsync_journal())

    async def _fsync_journal(self) -> None:
        journal = self._journal
        try:
            while journal is not None and journal.unsynced:
                try:
                    await asyncio.to_thread(journal.sync)
                except OSError:
                    log.warning("could not fsync the journal of %s", self.path, exc_info=True)
                    break
        finally:
            self._syncing = None

    def _schedule(self) -> None:
        if self._timer is not None or self._saving is not None:
            return
        gap = max(self.interval, 8.0 * self._last_duration)
        delay = max(0.0, self._last_end + gap - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(delay, self._kick)

    def _kick(self) -> None:
        self._timer = None
        if self._saving is None and self._dirty:
            self._saving = asyncio.get_running_loop().create_task(self._save())

    async def _save(self) -> None:
        self._dirty = False
        snapshot = self.proto.model_copy(update={"runs": list(self.proto.runs)})
        started = time.monotonic()
        try:
            await asyncio.to_thread(save_prototype, snapshot, self.path)
            self.saved += 1
        except BaseException:
            self._dirty = True
            raise
        finally:
            self._last_end = time.monotonic()
            self._last_duration = self._last_end - started
            if self._saving is asyncio.current_task():
                self._saving = None
        if self._dirty:
            self._schedule()
