"""Settings → "You": the display name (and optional email) stamped on every rating and vote.

The rule for who is rating lives in `app.core.rater`; this tab only edits the saved identity.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.core.rater import RATER_ENV, Identity, current_rater, load_identity, os_login_name, save_identity
from app.ui.jobs import Job


class RaterTab(QWidget):
    """Edit the rater identity; saving writes it off the GUI thread and announces the new rater."""

    sig_rater_changed = Signal(str)
    """The saved identity changed; the argument is the rater now in effect."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        identity = load_identity()
        self.name = QLineEdit(identity.name)
        self.name.setObjectName("rater-name")
        self.name.setPlaceholderText(os_login_name() or "your name")
        self.email = QLineEdit(identity.email)
        self.email.setObjectName("rater-email")
        self.email.setPlaceholderText("optional, tells two people with one name apart")
        self.save = QPushButton("Save")
        self.save.setObjectName("rater-save")
        self.save.clicked.connect(self.on_save)
        self.saving = False
        """A write is in flight (tests wait for it)."""
        self.status = QLabel()
        self.status.setObjectName("rater-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Display name", self.name)
        form.addRow("Email", self.email)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.save, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.status)
        layout.addWidget(QLabel(
            "<span style='color:gray'>Every thumb, note, tag and A/B vote you give is stamped with this "
            "name, so a team can merge its files and see who rated what. Empty: your login name. "
            f"The command line uses --rater or ${RATER_ENV}.</span>"
        ))
        layout.addStretch(1)
        self._show_current()

    def _show_current(self) -> None:
        self.status.setText(f"You rate as: {current_rater()}")

    def on_save(self) -> None:
        identity = Identity(self.name.text().strip(), self.email.text().strip())
        self.saving = True
        self.save.setEnabled(False)

        def saved(_result: object) -> None:
            self.saving = False
            self.save.setEnabled(True)
            self._show_current()
            self.sig_rater_changed.emit(current_rater())

        def failed(exc: BaseException) -> None:
            self.saving = False
            self.save.setEnabled(True)
            self.status.setText(f"Not saved: {exc}")

        Job(lambda: save_identity(identity)).owned_by(self).success(saved).failure(failed).start()
