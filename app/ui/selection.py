"""Which profiles, model targets and cases the compare grid shows.

UI state, not saved in the prototype: each person's ticks are kept per file in `UiState`
(`hidden()` / `reset_for(proto, hidden)`), so opening a shared file shows what you ticked last.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.core.prototype import Prototype
from app.core.structure import KINDS, Kind, default_models


class Selection(QObject):
    """Items are shown unless hidden, so new items appear at once. Columns = profiles x models shown."""

    sig_changed = Signal()
    """The set of shown columns or rows changed."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hidden: dict[Kind, set[str]] = {kind: set() for kind in KINDS}

    def reset_for(self, proto: Prototype, hidden: dict[str, list[str]] | None = None) -> None:
        """For a newly opened file: what was unticked there last time (`hidden`), else the defaults
        (every profile and case, and the local model)."""
        self._hidden = {kind: set() for kind in KINDS}
        if hidden is None:
            shown = set(default_models(proto))
            self._hidden["models"] = {m.id for m in proto.models if m.id not in shown}
        else:
            for kind in KINDS:
                self._hidden[kind] = set(hidden.get(kind, ()))
        self.sig_changed.emit()

    def hidden(self) -> dict[str, list[str]]:
        """What is unticked, per kind, sorted (for `UiState`)."""
        return {kind: sorted(ids) for kind, ids in self._hidden.items()}

    def is_shown(self, kind: Kind, item_id: str) -> bool:
        return item_id not in self._hidden[kind]

    def set_shown(self, kind: Kind, item_id: str, shown: bool) -> None:
        if shown == self.is_shown(kind, item_id):
            return
        if shown:
            self._hidden[kind].discard(item_id)
        else:
            self._hidden[kind].add(item_id)
        self.sig_changed.emit()

    def shown(self, proto: Prototype, kind: Kind) -> list[str]:
        return [item.id for item in getattr(proto, kind) if self.is_shown(kind, item.id)]

    def columns(self, proto: Prototype) -> list[tuple[str, str]]:
        """(profile id, model id) per column: models outer, so one model's profiles sit side by side."""
        profiles = self.shown(proto, "profiles")
        return [(p, m) for m in self.shown(proto, "models") for p in profiles]
