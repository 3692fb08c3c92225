"""The editor beside the navigator: shows the profile, model target or case picked on the left."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QScrollArea, QStackedWidget, QWidget

from app.core import structure
from app.core.structure import Kind
from app.ui.case_editor import CaseEditor
from app.ui.document_model import Document
from app.ui.model_editor import ModelEditor
from app.ui.profile_editor import ProfileEditor
from app.ui.services import Services

HINT = (
    "Pick a profile, model or case on the left to edit it here.\n\n"
    "Profiles say how the model should behave; models say who answers; cases are the "
    "conversations to try. Press Run (Ctrl+Enter) to fill the grid."
)


class EditorPanel(QStackedWidget):
    """Edits go straight into the document; names and turns refresh lists and headers after a pause."""

    def __init__(self, document: Document, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.kind: Kind | None = None
        self.item_id: str | None = None
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setMargin(16)
        self.hint.setStyleSheet("color: gray;")
        self.profile_editor = ProfileEditor(self._edited)
        self.model_editor = ModelEditor(services, self._edited)
        self.case_editor = CaseEditor(
            self._edited, prototype_dir=lambda: document.path.parent if document.path else None,
            profiles=lambda: document.proto.profiles,
        )
        self.addWidget(self.hint)
        for editor in (self.profile_editor, self.model_editor, self.case_editor):
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            # fits the pane; a pane made narrower than an editor can go scrolls instead of cutting it off
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            scroll.setWidget(editor)
            self.addWidget(scroll)
        self._structural = QTimer(self)
        self._structural.setSingleShot(True)
        self._structural.setInterval(400)
        self._structural.timeout.connect(self._structure_edited)
        document.sig_path_changed.connect(lambda: self.show_item(self.kind, self.item_id))
        document.sig_structure_changed.connect(self._check_still_there)

    def show_item(self, kind: Kind | None, item_id: str | None) -> None:
        self.flush()
        self.kind, self.item_id = kind, item_id
        proto = self.document.proto
        try:
            if kind == "profiles" and item_id:
                known = {name for case in proto.cases for name in case.vars}
                self.profile_editor.set_profile(proto.profile(item_id), known)
                self.setCurrentIndex(1)
                return
            if kind == "models" and item_id:
                self.model_editor.set_target(proto.model(item_id))
                self.setCurrentIndex(2)
                return
            if kind == "cases" and item_id:
                self.case_editor.set_case(proto.case(item_id), [m.id for m in proto.models])
                self.setCurrentIndex(3)
                return
        except KeyError:
            pass
        self.kind = self.item_id = None
        self.setCurrentIndex(0)

    def reveal(self, kind: Kind, item_id: str) -> None:
        """Show this item unless it is already shown (showing it again would reset its editor)."""
        if (kind, item_id) != (self.kind, self.item_id):
            self.show_item(kind, item_id)

    def _check_still_there(self) -> None:
        if self.kind is None or self.item_id is None:
            return
        ids = {item.id for item in getattr(self.document.proto, self.kind)}
        if self.item_id not in ids:
            self.show_item(None, None)
        elif self.kind == "cases":
            self.case_editor.refresh_images()  # an image dropped on the case's row in the grid

    def _structure_edited(self) -> None:
        """A name was typed: while nothing refers to the item yet, its id follows the name (core rule)."""
        if self.kind is not None and self.item_id is not None:
            with contextlib.suppress(StopIteration):  # the item went meanwhile
                self.item_id = structure.follow_name(self.document.proto, self.kind, self.item_id)
        self.document.structure_edited()

    def _edited(self, structural: bool) -> None:
        if structural:
            self._structural.start()
        self.document.mark_dirty()

    def flush(self) -> None:
        """Apply a pending name/turn change now (before saving or switching items)."""
        if self._structural.isActive():
            self._structural.stop()
            self._structure_edited()
