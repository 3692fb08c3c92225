"""The exact request behind a cell's answer: messages with every var filled in, params, endpoint,
timings. Plain text (it quotes prompts and model output: nothing renders or fetches)."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from app.core.prototype import Run
from app.core.request_view import request_text
from app.ui.document_model import Document


def endpoint_of(document: Document, run: Run) -> str:
    """The model target's own URL, else its provider's (from the registry), else the provider id."""
    try:
        target = document.proto.model(run.model)
    except KeyError:
        return run.provider or "?"
    if target.base_url:
        return target.base_url
    try:
        from app.providers.registry import Registry

        spec = next((s for s in Registry().all() if s.id == target.provider), None)
    except Exception:  # a broken custom-providers file: still show the request
        spec = None
    return f"{spec.base_url} ({target.provider})" if spec is not None else target.provider


class RequestDialog(QDialog):
    def __init__(self, document: Document, run: Run, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("request-dialog")
        self.setWindowTitle("The exact request")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText(request_text(run, endpoint=endpoint_of(document, run)))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(720, 560)
