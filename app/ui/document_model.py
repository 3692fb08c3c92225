"""The open prototype as a Qt model: one owner of the data, change signals for every view.

Views never keep their own copy of the prototype: they read `document.proto` and listen
to the signals below (napari's evented-model pattern). Every mutation goes through a
method here so that dirtiness, autosave and repaint all follow from one place. The rules
themselves live in `app/core` (Anki's split: `pylib` owns operations, `aqt` announces them):
each method here calls one core function and emits the signals for what it changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.core import ratings, results, threads
from app.core.history import Done, Edit, History
from app.core.prototype import ConversationEnd, EvalRun, Preference, Prototype, Rating, Run
from app.core.rater import current_rater


class Document(QObject):
    """The prototype being edited, its path, and whether it has unsaved changes."""

    sig_changed = Signal()
    """Anything in the prototype changed (the title shows a `*`)."""
    sig_structure_changed = Signal()
    """Profiles, model targets or cases were added, removed, renamed or reordered."""
    sig_runs_changed = Signal()
    """Runs were added or replaced."""
    sig_rating_changed = Signal(str)
    """The rating of the run with this id changed."""
    sig_preferences_changed = Signal()
    """A pairwise vote was added or removed."""
    sig_evals_changed = Signal()
    """Assertions or eval results changed."""
    sig_path_changed = Signal()
    """The document was saved under a new path or replaced by another file."""
    sig_dirty_changed = Signal(bool)
    """The unsaved-changes flag flipped."""
    sig_rater_changed = Signal(str)
    """Who rates in this window changed (Settings → You)."""
    sig_history_changed = Signal()
    """A structural edit was made, undone or redone, or the history was cleared."""

    def __init__(self, proto: Prototype, path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.proto = proto
        self.path = path
        self._dirty = False
        self.chosen_answers: dict[threads.CellKey, str] = {}
        """Cells where the person is looking at an earlier answer (view state, never saved)."""
        self._states: dict[threads.CellKey, threads.CellState] | None = None
        self._kept_repeats: dict[str, Run] = {}
        """Runs not stored as repeats -> the stored run standing in (see `results.record_runs`)."""
        self.rater = current_rater()
        """Who rates in this window: stamped on every thumb, note, tag and vote."""
        self.history = History()
        """Undo and redo of structural edits (`app/core/history.py`); text boxes keep their own."""
        self._only_history = True
        """No change since the last save but structural edits (so undoing them all makes it clean)."""

    def set_rater(self, rater: str) -> None:
        if rater and rater != self.rater:
            self.rater = rater
            self.sig_rater_changed.emit(rater)

    # -- state ---------------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self._dirty

    def mark_dirty(self) -> None:
        self._only_history = False
        self._changed(dirty=True)

    def _changed(self, *, dirty: bool) -> None:
        self._states = None
        if self._dirty != dirty:
            self._dirty = dirty
            self.sig_dirty_changed.emit(dirty)
        self.sig_changed.emit()

    def mark_saved(self, path: Path | None = None) -> None:
        if path is not None and path != self.path:
            self.path = path
            self.sig_path_changed.emit()
        self.history.mark_saved()
        self._only_history = True
        if self._dirty:
            self._dirty = False
            self.sig_dirty_changed.emit(False)

    def replace(self, proto: Prototype, path: Path | None) -> None:
        """Show another prototype in the same window."""
        self.proto = proto
        self.path = path
        self._dirty = False
        self.chosen_answers = {}
        self._states = None
        self.history.clear()
        self._only_history = True
        self.sig_history_changed.emit()
        self.sig_path_changed.emit()
        self.sig_dirty_changed.emit(False)
        self.sig_structure_changed.emit()
        self.sig_runs_changed.emit()
        self.sig_preferences_changed.emit()
        self.sig_evals_changed.emit()

    # -- mutations -----------------------------------------------------------------------------------

    def structure_edited(self) -> None:
        """Call after editing profiles, model targets or cases in place."""
        self._states = None  # answers may have gone out of date
        self.sig_structure_changed.emit()
        self.mark_dirty()

    def edit_structure(self, edit: Edit) -> Done:
        """Add, duplicate, delete, rename or reorder through the undo history (`app/core/history.py`)."""
        done = self.history.do(self.proto, edit)
        self._history_applied(done)
        return done

    def undo_structure(self) -> Done | None:
        """Undo the last structural edit (`history.Blocked` when it no longer fits: nothing changed)."""
        done = self.history.undo(self.proto)
        if done is not None:
            self._history_applied(done)
        return done

    def redo_structure(self) -> Done | None:
        done = self.history.redo(self.proto)
        if done is not None:
            self._history_applied(done)
        return done

    def _history_applied(self, done: Done) -> None:
        """Dirty first (which forgets the cell states once), then what changed: the views that show
        runs refresh on a structure change already; votes and eval links only when they moved."""
        self._changed(dirty=not (self._only_history and self.history.at_saved()))
        self.sig_structure_changed.emit()
        if done.votes:
            self.sig_preferences_changed.emit()
        if done.evals:
            self.sig_evals_changed.emit()
        self.sig_history_changed.emit()

    def add_runs(self, runs: Iterable[Run]) -> results.Recorded:
        """Store ended runs by the core policy (`app/core/results.py`), the same one the CLI uses.

        A run that ended for an item deleted meanwhile waits in that delete's undo record instead
        (`History.keep_late_runs`): an undo brings it back, else it goes with the rest."""
        runs = self.history.keep_late_runs(self.proto, runs)
        recorded = results.record_runs(self.proto, runs, aliases=self._kept_repeats)
        self._states = None
        if recorded.added:
            self.sig_runs_changed.emit()
            self.mark_dirty()
        return recorded

    def end_conversation(self, run_id: str, end: ConversationEnd) -> None:
        """Store how a simulated conversation ended on its last run (`results.record_conversation_end`)."""
        if results.record_conversation_end(self.proto, run_id, end, self._kept_repeats) is None:
            return
        self.sig_runs_changed.emit()
        self.mark_dirty()

    def record_eval(self, new_runs: Iterable[Run], eval_run: EvalRun) -> results.Recorded:
        """Store an eval's answers and its eval run (`results.record_eval`, as `protostudio eval` does)."""
        recorded = results.record_eval(self.proto, new_runs, eval_run)
        self._states = None
        if recorded.added:
            self.sig_runs_changed.emit()
        self.evals_edited()
        return recorded

    def set_rating(self, run_id: str, rating: Rating) -> None:
        """Store this window's rater's thumb, note and tags for the run (`rating.rater` is ignored)."""
        run = self.proto.run(run_id)
        if not ratings.set_rating(run, self.rater, thumb=rating.thumb, note=rating.note, tags=rating.tags):
            return
        self.sig_rating_changed.emit(run_id)
        self.mark_dirty()

    def add_preference(self, preference: Preference) -> None:
        """Append a vote, stamped with this window's rater."""
        preference.rater = self.rater
        self.proto.preferences.append(preference)
        self.sig_preferences_changed.emit()
        self.mark_dirty()

    def evals_edited(self) -> None:
        """Call after changing assertions or appending eval runs."""
        self.sig_evals_changed.emit()
        self.mark_dirty()

    # -- queries -------------------------------------------------------------------------------------

    def cell_states(self) -> dict[threads.CellKey, threads.CellState]:
        """Every cell's current answer, thread, rating and staleness (`app/core/threads.py`).

        Computed once per change: every view asks, and hashing a big file's runs is not free.
        """
        if self._states is None:
            self._states = threads.cell_states(self.proto, self.chosen_answers)
        return self._states

    def choose_answer(self, key: threads.CellKey, run_id: str | None) -> None:
        """Show an earlier answer of a cell ("1 of 3"); None goes back to the current one. Not saved."""
        if self.chosen_answers.get(key) == run_id:
            return
        if run_id is None:
            self.chosen_answers.pop(key, None)
        else:
            self.chosen_answers[key] = run_id
        self._states = None
        self.sig_runs_changed.emit()
