"""Raise a model's timeout right where its error says to: a small non-modal dialog from the cell."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from app.core.prototype import ModelTarget
from app.ui.document_model import Document

DEFAULT_TIMEOUT_S = 60


class TimeoutDialog(QDialog):
    def __init__(self, document: Document, model: ModelTarget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.model_id = model.id
        self.setObjectName("timeout-dialog")
        self.setWindowTitle("Model timeout")
        current = round(model.timeout_s or DEFAULT_TIMEOUT_S)
        self.seconds = QSpinBox()
        self.seconds.setObjectName("timeout-seconds")
        self.seconds.setRange(1, 3600)
        self.seconds.setSuffix(" s")
        self.seconds.setValue(min(3600, current * 2))  # the usual next step: double it
        note = QLabel(
            f"{model.label} gave up after {current} s. Wait longer for its answers "
            "(kept in the file, for everyone who runs it). Then run the cell again."
        )
        note.setWordWrap(True)
        ok, cancel = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok | cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(note)
        form.addRow("Wait up to", self.seconds)
        form.addRow(buttons)

    def accept(self) -> None:
        try:
            model = self.document.proto.model(self.model_id)
        except KeyError:  # deleted meanwhile
            super().accept()
            return
        model.timeout_s = float(self.seconds.value())
        self.document.structure_edited()
        super().accept()
