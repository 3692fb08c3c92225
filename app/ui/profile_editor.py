"""Edit one profile: prompts with `{{var}}` highlighting and undo/redo, form factor, behavior spec."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.prototype import Profile
from app.ui.highlight import VarHighlighter
from app.ui.spec_editor import SpecEditor

FORM_FACTORS = {
    "chat": "Chat: a normal chat answer",
    "canvas": "Canvas: opens a document beside the chat",
    "voice": "Voice: read aloud, so no markdown",
    "notification": "Notification: a short glanceable line",
}


class ProfileEditor(QWidget):
    """Writes every edit straight into the profile and reports it through `on_edit(structural)`."""

    def __init__(self, on_edit: Callable[[bool], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_edit = on_edit
        self.profile: Profile | None = None
        self.heading = QLabel()
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name shown on grid columns")
        self.description = QLineEdit()
        self.description.setPlaceholderText("What makes this variant different (optional)")
        self.form_factor = QComboBox()
        self.form_factor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.form_factor.setMinimumContentsLength(12)
        for key, text in FORM_FACTORS.items():
            self.form_factor.addItem(text, key)
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setObjectName("system-prompt")
        self.system_prompt.setPlaceholderText(
            'What the model is told, e.g. "You are a cat named {{cat_name}}." '
            "{{name}} is filled from each case's vars."
        )
        self.custom = QPlainTextEdit()
        self.custom.setPlaceholderText(
            "User-level custom instructions, sent after the system prompt (optional)."
        )
        self.custom.setMaximumHeight(80)
        self.highlighters = [
            VarHighlighter(self.system_prompt.document()),
            VarHighlighter(self.custom.document()),
        ]
        self.spec = SpecEditor(lambda: self._on_edit(False), self)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("About", self.description)
        form.addRow("Form factor", self.form_factor)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        prompt_label = QLabel(
            "System prompt  <span style='color:gray'>(Ctrl+Z / Ctrl+Shift+Z undo/redo)</span>"
        )
        prompt_label.setWordWrap(True)  # on one line it held the editor pane 20 px wider than its default
        layout.addWidget(prompt_label)
        layout.addWidget(self.system_prompt, 3)
        layout.addWidget(QLabel("Custom instructions"))
        layout.addWidget(self.custom, 1)
        layout.addWidget(self.spec, 2)
        self.name.textEdited.connect(self._name_edited)
        self.description.textEdited.connect(self._edited)
        self.form_factor.currentIndexChanged.connect(self._edited)
        self.system_prompt.textChanged.connect(self._edited)
        self.custom.textChanged.connect(self._edited)

    def set_profile(self, profile: Profile, known_vars: set[str]) -> None:
        self.profile = profile
        self.heading.setText(f"<b>Profile</b> <span style='color:gray'>id: {html.escape(profile.id)}</span>")
        blockers = [
            QSignalBlocker(w)
            for w in (self.name, self.description, self.form_factor, self.system_prompt, self.custom)
        ]
        self.name.setText(profile.name)
        self.description.setText(profile.description)
        self.description.setCursorPosition(0)  # a long description reads from its start, not its tail
        self.form_factor.setCurrentIndex(max(0, self.form_factor.findData(profile.form_factor)))
        self.system_prompt.setPlainText(profile.system_prompt)
        self.custom.setPlainText(profile.custom_instructions)
        for highlighter in self.highlighters:  # rehighlighting counts as a text change: keep it blocked
            highlighter.set_known(known_vars or None)
        del blockers
        self.spec.set_profile(profile)

    def _name_edited(self) -> None:
        if self.profile is not None:
            self.profile.name = self.name.text()
            self._on_edit(True)

    def _edited(self) -> None:
        profile = self.profile
        if profile is None:
            return
        values = {
            "description": self.description.text(),
            "form_factor": self.form_factor.currentData(),
            "system_prompt": self.system_prompt.toPlainText(),
            "custom_instructions": self.custom.toPlainText(),
        }
        changed = {k: v for k, v in values.items() if getattr(profile, k) != v}
        if not changed:  # highlighters re-emit textChanged without a real edit
            return
        for key, value in changed.items():
            setattr(profile, key, value)
        self._on_edit(False)
