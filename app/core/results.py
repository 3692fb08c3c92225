"""One policy for storing what a run produced, shared by the GUI, `protostudio run` and evals.

- a cell cancelled before any text is not stored (it says nothing);
- a prompted-baseline answer (evals) is never stored: it is graded, not kept;
- an answer served from the response cache that repeats a stored run of the same cell and
  thread (same fingerprint, same text) is not stored again: the stored run, with its rating,
  stays the answer, and the file does not grow;
- everything else is appended, and a fresh answer becomes the cell's current one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.core.prototype import ConversationEnd, EvalRun, Prototype, Run
from app.core.threads import CellKey, cell_key, run_fingerprint


@dataclass
class Recorded:
    """What `record_runs` did: the runs appended, and the stored run standing in for each skipped repeat."""

    added: list[Run] = field(default_factory=list)
    kept: dict[str, Run] = field(default_factory=dict)
    """New run id -> the stored run it repeats (a cache hit that added nothing)."""

    def stored(self, run: Run) -> Run | None:
        """The run in the file for `run`: itself when added, the one it repeats, or None when dropped."""
        if any(r is run for r in self.added):
            return run
        return self.kept.get(run.id)


def worth_storing(run: Run, *, baseline: bool = False) -> bool:
    """False for baseline answers and for cells cancelled before any text."""
    if baseline:
        return False
    return not (run.status == "cancelled" and not run.output)


def record_runs(
    proto: Prototype, runs: Iterable[Run], *, baseline: bool = False, aliases: dict[str, Run] | None = None
) -> Recorded:
    """Append the runs worth storing to `proto.runs` (in place); see the module docstring.

    A run continuing a repeat that was not stored (a simulated conversation answered from the
    cache again) is re-pointed, in place, at the stored run standing in for its parent, so the
    thread stays whole. `aliases` carries those stand-ins across calls (the writer and the GUI
    store runs one batch at a time): pass the same dict each time; kept repeats are added to it.
    """
    result = Recorded()
    aliases = {} if aliases is None else aliases
    candidates = [run for run in runs if worth_storing(run, baseline=baseline)]
    for run in candidates:
        standing = aliases.get(run.parent) if run.parent is not None else None
        if standing is not None and standing.id != run.parent:
            run.parent = standing.id
    cached_cells = {cell_key(run) for run in candidates if run.cached and run.status == "ok"}
    index = _repeat_index(proto, cached_cells) if cached_cells else {}
    for run in candidates:
        if run.cached and run.status == "ok":
            existing = index.get(_repeat_key(run))
            if existing is not None:
                result.kept[run.id] = aliases[run.id] = existing
                for later in candidates:  # its continuations in this same call
                    if later.parent == run.id:
                        later.parent = existing.id
                continue
        proto.runs.append(run)
        result.added.append(run)
        if cell_key(run) in cached_cells and run.status == "ok":
            index.setdefault(_repeat_key(run), run)
    return result


def record_conversation_end(
    proto: Prototype, run_id: str, end: ConversationEnd, aliases: dict[str, Run] | None = None
) -> Run | None:
    """Store how a simulated conversation ended on its last stored run (`run_id`, or the stored run a
    repeat of it stands for, see `record_runs`' `aliases`). Returns the run changed, None when the
    run is not in the file (e.g. a cell cancelled before any text) or already says so."""
    target = (aliases or {}).get(run_id)
    if target is None:
        target = next((run for run in reversed(proto.runs) if run.id == run_id), None)
    if target is None or target.conversation_end == end:
        return None
    target.conversation_end = end
    return target


def record_eval(proto: Prototype, new_runs: Iterable[Run], eval_run: EvalRun) -> Recorded:
    """Store an eval's new answers (same policy) and the eval run, pointing its results at stored runs."""
    recorded = record_runs(proto, new_runs)
    stored = {run.id for run in proto.runs}
    for result in eval_run.results:
        if result.run is not None and result.run in recorded.kept:
            result.run = recorded.kept[result.run].id
        elif result.run is not None and result.run not in stored:
            result.run = None  # a cell cancelled before any text: its failure is kept, not a run
    proto.evals.append(eval_run)
    return recorded


def _repeat_key(run: Run) -> tuple[object, ...]:
    return (*cell_key(run), run.parent, run_fingerprint(run), run.output)


def _repeat_index(proto: Prototype, cells: set[CellKey]) -> dict[tuple[object, ...], Run]:
    """Stored `ok` runs of these cells by what they repeat (only these cells: hashing is not free)."""
    index: dict[tuple[object, ...], Run] = {}
    for run in proto.runs:
        if run.status == "ok" and cell_key(run) in cells:
            index.setdefault(_repeat_key(run), run)  # the oldest keeps its rating and its place
    return index


__all__ = ["Recorded", "record_conversation_end", "record_eval", "record_runs", "worth_storing"]
