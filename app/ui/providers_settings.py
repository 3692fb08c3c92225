"""Add, edit and remove custom OpenAI-compatible providers from Settings (id, name, base URL, key env
var, key), through the same `Registry.add` / `remove` the CLI's `providers add` uses. The key goes to
the OS keyring for the provider's own host, never to a file."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from app.providers.registry import ProviderSpec, Registry
from app.ui.jobs import Job


class ProviderForm(QDialog):
    """Non-modal form: `on_saved(spec, key)` is called once the registry has the provider."""

    def __init__(
        self,
        registry: Registry,
        on_saved: Callable[[ProviderSpec, str], None],
        spec: ProviderSpec | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.registry = registry
        self.on_saved = on_saved
        self.setObjectName("provider-form")
        self.setWindowTitle("Edit provider" if spec else "Add an OpenAI-compatible provider")
        self.provider_id = QLineEdit(spec.id if spec else "")
        self.provider_id.setObjectName("provider-id")
        self.provider_id.setPlaceholderText("e.g. my-gateway (lower-case, used in prototype files)")
        self.provider_id.setReadOnly(spec is not None)  # files name it: renaming would orphan targets
        self.name = QLineEdit(spec.name if spec else "")
        self.name.setObjectName("provider-name")
        self.name.setPlaceholderText("Shown in lists, e.g. Team gateway")
        self.base_url = QLineEdit(spec.base_url if spec else "")
        self.base_url.setObjectName("provider-url")
        self.base_url.setPlaceholderText("https://host/v1")
        self.key_env = QLineEdit((spec.key_env or "") if spec else "")
        self.key_env.setObjectName("provider-key-env")
        self.key_env.setPlaceholderText("optional, e.g. MY_GATEWAY_API_KEY")
        self.needs_key = QCheckBox("Needs a key")
        self.needs_key.setChecked(spec.needs_key if spec else True)
        self.key = QLineEdit()
        self.key.setObjectName("provider-key")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional: stored in the OS keyring for this host only")
        self.problem = QLabel()
        self.problem.setObjectName("provider-problem")
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b3261e;")
        save, cancel = QDialogButtonBox.StandardButton.Save, QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(save | cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        form = QFormLayout(self)
        form.addRow("Id", self.provider_id)
        form.addRow("Name", self.name)
        form.addRow("Base URL", self.base_url)
        form.addRow("Key env var", self.key_env)
        form.addRow("", self.needs_key)
        form.addRow("Key", self.key)
        form.addRow(self.problem)
        form.addRow(buttons)

    def save(self) -> None:
        """Write in the background; on a problem the form stays open with every field as typed."""
        provider_id = self.provider_id.text().strip()
        url = self.base_url.text().strip()
        name = self.name.text().strip()
        key_env = self.key_env.text().strip() or None
        needs_key = self.needs_key.isChecked()
        key = self.key.text().strip()
        registry = self.registry
        self.buttons.setEnabled(False)
        self.problem.setText("Saving…")
        (
            Job(lambda: registry.add(provider_id, url, name=name, key_env=key_env, needs_key=needs_key))
            .owned_by(self)
            .success(lambda spec: self._saved(spec, key))
            .failure(self._failed)
            .start()
        )

    def _saved(self, spec: ProviderSpec, key: str) -> None:
        self.buttons.setEnabled(True)
        self.problem.clear()
        self.key.clear()
        self.on_saved(spec, key)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.problem.setText(str(exc) or type(exc).__name__)
