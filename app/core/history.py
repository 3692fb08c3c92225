"""Undo and redo of structural edits: adding, duplicating, deleting, renaming and reordering
profiles, model targets and cases.

Every edit here is applied by `apply(proto)`, which returns its exact inverse (itself an edit),
so the same code serves do, undo and redo, and the GUI and any other front end share it. A
delete's inverse holds what went (`structure.Deleted`: the removed objects and their positions,
no copy of the prototype), so an undo step costs about what the delete did, even at 10,000 runs.

Text typed into an editor is not here: each text box keeps its own undo history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from app.core import structure
from app.core.prototype import Case, Prototype, Run
from app.core.structure import Deleted, Kind

LIMIT = 100
"""Undo steps kept; older ones are forgotten (a delete's record holds its runs)."""

NOUN: dict[Kind, str] = {"profiles": "profile", "models": "model", "cases": "case"}
_FIELD: dict[Kind, str] = {"profiles": "profile", "models": "model", "cases": "case"}


class Edit(Protocol):
    """A structural edit: `apply` changes the prototype and returns the edit that reverts it."""

    @property
    def kind(self) -> Kind: ...

    @property
    def item_id(self) -> str: ...

    def apply(self, proto: Prototype) -> Edit: ...


class Blocked(Exception):
    """An undo or redo that no longer fits the file (the item went, or its id is taken); nothing changed."""


@dataclass(frozen=True)
class Add:
    """A new item at the end of its list (`structure.add`)."""

    kind: Kind
    item_id: str = ""

    def apply(self, proto: Prototype) -> Edit:
        item = structure.add(proto, self.kind)
        return Delete(self.kind, item.id, item)


@dataclass(frozen=True)
class Duplicate:
    """A copy of an item right after it (`structure.duplicate`)."""

    kind: Kind
    item_id: str

    def apply(self, proto: Prototype) -> Edit:
        _find(proto, self.kind, self.item_id, None)
        copy = structure.duplicate(proto, self.kind, self.item_id)
        return Delete(self.kind, copy.id, copy)


@dataclass(frozen=True)
class Delete:
    """An item and its cascade (`structure.remove`). `item`, when set, is the object itself: its id
    may have followed a name typed in the editor since the step was recorded."""

    kind: Kind
    item_id: str
    item: structure.Item | None = field(default=None, compare=False)

    def apply(self, proto: Prototype) -> Edit:
        found = _find(proto, self.kind, self.item_id, self.item)
        return Restore(structure.remove(proto, self.kind, found.id))


@dataclass(frozen=True)
class Restore:
    """What a delete took, put back (`structure.restore`)."""

    record: Deleted

    @property
    def kind(self) -> Kind:
        return self.record.kind

    @property
    def item_id(self) -> str:
        return self.record.item.id

    def apply(self, proto: Prototype) -> Edit:
        item = self.record.item
        if any(i.id == item.id for i in structure.items(proto, self.kind)):
            raise Blocked(f"another {NOUN[self.kind]} now has the id {item.id!r}; rename it first")
        structure.restore(proto, self.record)
        return Delete(self.kind, item.id, item)


@dataclass(frozen=True)
class Rename:
    """A new display name; the id follows it while nothing refers to it (`structure.follow_name`),
    or is set back to `new_id` (an undo) when that id is free and nothing refers to the current one."""

    kind: Kind
    item_id: str
    name: str
    new_id: str | None = None
    item: structure.Item | None = field(default=None, compare=False)

    def apply(self, proto: Prototype) -> Edit:
        item = _find(proto, self.kind, self.item_id, self.item)
        was_id = item.id
        old_name = item.description if isinstance(item, Case) else item.name
        structure.rename(item, self.name)
        if self.new_id is None:
            structure.follow_name(proto, self.kind, was_id)
        else:
            taken = {i.id for i in structure.items(proto, self.kind)}
            if self.new_id not in taken and not structure.id_in_use(proto, self.kind, was_id):
                item.id = self.new_id
        return Rename(self.kind, item.id, old_name, was_id, item)


@dataclass(frozen=True)
class Reorder:
    """A list put in this order (`structure.reorder`): of ids as shown, or of the items themselves
    (an undo's, whose ids may have followed names since)."""

    kind: Kind
    ids: tuple[str, ...]
    item_id: str = ""
    order: tuple[structure.Item, ...] | None = field(default=None, compare=False)

    def apply(self, proto: Prototype) -> Edit:
        listed: list[structure.Item] = list(structure.items(proto, self.kind))
        before = tuple(listed)
        ids = list(self.ids) if self.order is None else [i.id for i in self.order]
        structure.reorder(proto, self.kind, ids)
        return Reorder(self.kind, tuple(i.id for i in before), self.item_id, before)


def _find(proto: Prototype, kind: Kind, item_id: str, item: structure.Item | None) -> structure.Item:
    """The item itself when known (by identity: its id may have changed), else the one with the id;
    `Blocked` when it is not in the file."""
    listed: list[structure.Item] = list(structure.items(proto, kind))
    found = next((c for c in listed if c is item), None) if item is not None else None
    found = found or next((c for c in listed if c.id == item_id), None)
    if found is not None:
        return found
    raise Blocked(f"{NOUN[kind]} {item_id!r} is no longer in the file")


def words(edit: Edit, proto: Prototype) -> str:
    """What an edit does, for menus and messages: "delete case 'tip-mid-roleplay'". Call before applying."""
    noun = NOUN[edit.kind]
    if isinstance(edit, Add):
        return f"add {noun}"
    if isinstance(edit, Reorder):
        return f"reorder {edit.kind}"
    if isinstance(edit, Rename):
        return f"rename {noun} {edit.item_id!r}"
    if isinstance(edit, Duplicate):
        return f"duplicate {noun} {edit.item_id!r}"
    if isinstance(edit, Restore):
        return f"restore {noun} {edit.item_id!r}"
    return f"delete {noun} {edit.item_id!r}"


@dataclass
class Step:
    """One entry on a stack: the words of the edit the person made, and the edit that applies next
    (on the undo stack the inverse, on the redo stack the edit again)."""

    words: str
    edit: Edit

    @property
    def kind(self) -> Kind:
        return self.edit.kind

    @property
    def item_id(self) -> str:
        return self.edit.item_id


@dataclass
class Done:
    """What `History.do`, `undo` or `redo` did: the words, the item concerned (still there or not),
    and for a delete how many results went or came back."""

    words: str
    kind: Kind
    item_id: str
    runs: int = 0
    votes: int = 0
    evals: bool = False
    """Eval results' run links or assertion scopes moved (views of evals need a reload)."""


@dataclass
class History:
    """Bounded undo and redo stacks of structural edits on one open prototype."""

    limit: int = LIMIT
    undo_steps: list[Step] = field(default_factory=list)
    redo_steps: list[Step] = field(default_factory=list)
    saved_depth: int | None = 0
    """How many undo steps the saved file had (None: that state can no longer be reached)."""

    def do(self, proto: Prototype, edit: Edit) -> Done:
        """Apply an edit the person made; it becomes the next undo, and the redo stack is dropped."""
        text = words(edit, proto)
        inverse = edit.apply(proto)
        if self.saved_depth is not None and self.saved_depth > len(self.undo_steps):
            self.saved_depth = None  # the saved state was on the redo stack, which goes now
        self.undo_steps.append(Step(text, inverse))
        dropped = max(0, len(self.undo_steps) - self.limit)
        if dropped:
            del self.undo_steps[:dropped]
            if self.saved_depth is not None:
                self.saved_depth = None if self.saved_depth < dropped else self.saved_depth - dropped
        self.redo_steps.clear()
        return _done(text, edit, inverse)

    def undo(self, proto: Prototype) -> Done | None:
        if not self.undo_steps:
            return None
        step = self.undo_steps[-1]
        again = step.edit.apply(proto)  # `Blocked` leaves the step where it is
        self.undo_steps.pop()
        self.redo_steps.append(Step(step.words, again))
        return _done(step.words, step.edit, again)

    def redo(self, proto: Prototype) -> Done | None:
        if not self.redo_steps:
            return None
        step = self.redo_steps[-1]
        back = step.edit.apply(proto)
        self.redo_steps.pop()
        self.undo_steps.append(Step(step.words, back))
        return _done(step.words, step.edit, back)

    def undo_words(self) -> str | None:
        return self.undo_steps[-1].words if self.undo_steps else None

    def redo_words(self) -> str | None:
        return self.redo_steps[-1].words if self.redo_steps else None

    def clear(self) -> None:
        """Forget every step (another file was opened); the current state counts as saved."""
        self.undo_steps.clear()
        self.redo_steps.clear()
        self.saved_depth = 0

    def mark_saved(self) -> None:
        self.saved_depth = len(self.undo_steps)

    def at_saved(self) -> bool:
        """Whether undo or redo brought the structure back to what was last saved."""
        return self.saved_depth == len(self.undo_steps)

    def keep_late_runs(self, proto: Prototype, runs: Iterable[Run]) -> list[Run]:
        """Runs that ended for an item deleted meanwhile (a run in flight) are kept aside in that
        delete's record, so an undo brings them back with the rest; returns the runs to store.

        Runs of an item no pending delete knows are returned as they are (stored as before).
        """
        records = [s.edit.record for s in (*self.undo_steps, *self.redo_steps) if isinstance(s.edit, Restore)]
        if not records:
            return list(runs)
        present = {kind: {i.id for i in structure.items(proto, kind)} for kind in structure.KINDS}
        to_store: list[Run] = []
        for run in runs:
            home = next((r for r in records if getattr(run, _FIELD[r.kind]) == r.item.id
                         and r.item.id not in present[r.kind]), None)
            if home is None:
                to_store.append(run)
            else:
                home.late_runs.append(run)
        return to_store


def deleted_words(done: Done) -> str:
    """The message after a delete: "Deleted case 'tip-mid-roleplay' with 12 results." """
    noun = NOUN[done.kind]
    if not done.runs:
        return f"Deleted {noun} {done.item_id!r}."
    return f"Deleted {noun} {done.item_id!r} with {done.runs} result{'' if done.runs == 1 else 's'}."


def _done(text: str, applied: Edit, inverse: Edit) -> Done:
    """Describe a step from the pair (edit applied, its inverse): the delete's record tells the runs."""
    record = next((e.record for e in (applied, inverse) if isinstance(e, Restore)), None)
    item_id = applied.item_id if isinstance(inverse, Reorder) else inverse.item_id  # its id now
    if record is None:
        return Done(text, applied.kind, item_id)
    return Done(text, applied.kind, item_id, runs=len(record.runs) + len(record.late_runs),
                votes=len(record.preferences), evals=bool(record.unlinked or record.narrowed))


__all__ = [
    "LIMIT", "Add", "Blocked", "Delete", "Done", "Duplicate", "Edit", "History", "Rename", "Reorder",
    "Restore", "Step", "deleted_words", "words",
]
