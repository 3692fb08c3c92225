"""Settings: providers with key status, set/clear a key (OS keyring), test a connection, edit prices."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.prototype import Prototype
from app.providers.keys import KeyStore, NoKeyringError
from app.providers.pricing import PriceError
from app.providers.registry import ProviderSpec
from app.ui.jobs import Job, deliver
from app.ui.rater_settings import RaterTab
from app.ui.services import Services

CHECKING = "checking…"
KEY_STATUS = {
    "keyring": "key in keyring",
    "env": "key from environment",
    "session": "key for this session",
    "none": "no key",
}


class ProvidersTab(QWidget):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.key_lookups = 0
        """Key-status look-ups in flight (tests wait for none)."""
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("providers-table")
        self.table.setHorizontalHeaderLabels(["Provider", "Endpoint", "Key"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.result = QLabel("Pick a provider, then set its key or test the connection.")
        self.result.setObjectName("provider-result")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        self.set_key = QPushButton("Set key…")
        self.clear_key = QPushButton("Clear key")
        self.test = QPushButton("Test connection")
        self.test.setObjectName("test-connection")
        self.add_provider = QPushButton("Add provider…")
        self.add_provider.setObjectName("add-provider")
        self.add_provider.setToolTip("Any OpenAI-compatible endpoint: a gateway, a local server, a proxy")
        self.edit_provider = QPushButton("Edit…")
        self.edit_provider.setObjectName("edit-provider")
        self.remove_provider = QPushButton("Remove")
        self.remove_provider.setObjectName("remove-provider")
        self.confirm_remove: Callable[[ProviderSpec], bool] = self._ask_remove
        """Asks before removing (tests replace it: a modal question would hang them)."""
        self.set_key.clicked.connect(self.on_set_key)
        self.clear_key.clicked.connect(self.on_clear_key)
        self.test.clicked.connect(self.on_test)
        self.add_provider.clicked.connect(lambda: self.open_form(None))
        self.edit_provider.clicked.connect(lambda: self.open_form(self.current()))
        self.remove_provider.clicked.connect(self.on_remove)
        self.table.itemSelectionChanged.connect(self._enable_custom_buttons)
        buttons = QHBoxLayout()
        for button in (self.set_key, self.clear_key, self.test, self.add_provider, self.edit_provider,
                       self.remove_provider):
            buttons.addWidget(button)
        buttons.addStretch(1)
        problem = KeyStore.backend_problem()
        layout = QVBoxLayout(self)
        if problem:
            warning = QLabel(problem)
            warning.setTextFormat(Qt.TextFormat.PlainText)
            warning.setWordWrap(True)
            warning.setStyleSheet("color: #8a5300;")
            layout.addWidget(warning)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        where = "in memory until you quit" if problem else "in your system keyring"
        self.key_note = QLabel(
            f"<span style='color:gray'>Keys are kept {where}, for the provider's own host only. "
            "They are never written to a prototype file.</span>"
        )
        self.key_note.setObjectName("key-note")
        self.key_note.setWordWrap(True)
        layout.addWidget(self.key_note)
        self.reload()

    def specs(self) -> list[ProviderSpec]:
        try:
            return self.services.registry.all()
        except ValueError as exc:
            self.result.setText(str(exc))
            from app.providers.registry import BUILTINS

            return list(BUILTINS)

    def reload(self) -> None:
        """Fill the rows now; the key column follows once the keyring answered (off the GUI thread:
        a Secret Service keyring is asked over D-Bus and can block)."""
        row_before = self.table.currentRow()
        specs = self.specs()
        self.table.setRowCount(len(specs))
        for row, spec in enumerate(specs):
            status = "not needed" if not spec.needs_key and spec.local else CHECKING
            for col, text in enumerate(
                (f"{spec.name} · {spec.id}", "started on demand" if spec.local else spec.base_url, status)
            ):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, spec.id)
                self.table.setItem(row, col, item)
        self.table.resizeColumnToContents(0)
        self.table.selectRow(max(0, min(row_before, len(specs) - 1)))
        self._enable_custom_buttons()
        services = self.services
        asked = [s.id for s in specs if s.needs_key or not s.local]
        self.key_lookups += 1
        # the hub (and the SDK import) is built in the job when no Run has built it yet
        job = Job(lambda: {i: services.hub.key_status(i) for i in asked}).owned_by(self)
        job.success(self._show_key_status).failure(self._key_status_failed).start()

    def _enable_custom_buttons(self) -> None:
        spec = self.current()
        custom = spec is not None and spec.custom
        self.edit_provider.setEnabled(custom)
        self.remove_provider.setEnabled(custom)
        tip = "" if custom else "Built-in providers can't be changed; add your own instead"
        for button in (self.edit_provider, self.remove_provider):
            button.setToolTip(tip)

    def open_form(self, spec: ProviderSpec | None) -> None:
        """Add (spec None) or edit a custom provider in a non-modal form."""
        from app.ui.providers_settings import ProviderForm

        if spec is not None and not spec.custom:
            return
        self.form = ProviderForm(self.services.registry, self._provider_saved, spec, self)
        self.form.open()

    def _provider_saved(self, spec: ProviderSpec, key: str) -> None:
        self.result.setText(f"{spec.name} ({spec.id}) saved: {spec.base_url}.")
        self.reload()
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == spec.id:
                self.table.selectRow(row)
        if key:
            self.store_key(spec, key)

    def _ask_remove(self, spec: ProviderSpec) -> bool:
        answer = QMessageBox.question(
            self, "Remove provider",
            f"Remove {spec.name} ({spec.id})? Model targets that use it stop working until "
            "it is added again.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def on_remove(self) -> None:
        spec = self.current()
        if spec is None or not spec.custom or not self.confirm_remove(spec):
            return
        registry = self.services.registry

        def removed(_result: object) -> None:
            self.result.setText(f"{spec.name} ({spec.id}) removed.")
            self.reload()

        Job(lambda: registry.remove(spec.id)).owned_by(self).success(removed).failure(
            lambda exc: self.result.setText(str(exc))
        ).start()

    def _show_key_status(self, statuses: dict[str, str]) -> None:
        self.key_lookups -= 1
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 2)
            provider_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
            if item is not None and provider_id in statuses:
                item.setText(KEY_STATUS.get(statuses[provider_id], "?"))

    def _key_status_failed(self, exc: BaseException) -> None:
        self.key_lookups -= 1
        self.result.setText(f"Could not read the keyring: {exc}")

    def current(self) -> ProviderSpec | None:
        row = self.table.currentRow()
        specs = self.specs()
        return specs[row] if 0 <= row < len(specs) else None

    def on_set_key(self) -> None:
        spec = self.current()
        if spec is None:
            return
        key, ok = QInputDialog.getText(
            self, f"{spec.name} key", f"API key for {spec.name} at {spec.host}:", QLineEdit.EchoMode.Password
        )
        if not ok or not key.strip():
            return
        self.store_key(spec, key)

    def store_key(self, spec: ProviderSpec, key: str, *, session_only: bool = False) -> None:
        """Store in the background (the keyring can block); the answer arrives in `result`."""
        keys = self.services.keys

        def stored(where: str) -> None:
            self.result.setText(f"{spec.name}: key saved ({KEY_STATUS.get(where, where)}).")
            self.reload()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, NoKeyringError):
                answer = QMessageBox.question(
                    self, "No keyring", f"{exc}\n\nKeep the key in memory for this session only?"
                )
                if answer == QMessageBox.StandardButton.Yes:
                    keys.store(spec.id, spec.host, key, session_only=True)  # memory only: never blocks
                    self.result.setText(f"{spec.name}: key kept for this session only.")
                self.reload()
            else:
                self.result.setText(str(exc))

        self.result.setText(f"{spec.name}: saving the key…")
        Job(lambda: keys.store(spec.id, spec.host, key, session_only=session_only)).owned_by(self).success(
            stored
        ).failure(failed).start()

    def on_clear_key(self) -> None:
        spec = self.current()
        if spec is None:
            return

        def forgotten(_result: object) -> None:
            self.result.setText(f"{spec.name}: stored key removed.")
            self.reload()

        def failed(exc: BaseException) -> None:
            self.result.setText(f"{spec.name}: could not remove the key: {exc}")

        self.result.setText(f"{spec.name}: removing the key…")
        keys = self.services.keys
        Job(lambda: keys.forget(spec.id, spec.host)).owned_by(self).success(forgotten).failure(failed).start()

    def on_test(self) -> None:
        spec = self.current()
        if spec is None:
            return
        self.test.setEnabled(False)
        self.result.setText(f"Connecting to {spec.name}…")
        services = self.services

        async def list_models() -> list[str]:  # on the engine's thread: it may build the hub (SDK import)
            return await services.hub.list_models(spec.id)

        future = services.submit(list_models())
        deliver(
            future, self, lambda models: self._tested(spec, models), lambda exc: self._test_failed(spec, exc)
        )

    def _tested(self, spec: ProviderSpec, models: list[str]) -> None:
        self.test.setEnabled(True)
        sample = ", ".join(models[:5]) + (" …" if len(models) > 5 else "")
        self.result.setText(f"Connected to {spec.name}: {len(models)} model(s) available ({sample}).")

    def _test_failed(self, spec: ProviderSpec, exc: BaseException) -> None:
        self.test.setEnabled(True)
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        self.result.setText(f"{spec.name}: {message}")


class PricesTab(QWidget):
    """Prices (USD per 1M tokens) of the models this prototype uses; edits go to the user's price file."""

    def __init__(self, services: Services, proto: Prototype, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("prices-table")
        self.table.setHorizontalHeaderLabels(["Provider", "Model", "Input $/1M", "Output $/1M"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.writing = False
        """A price write is in flight (tests wait for it to finish)."""
        self._queue: list[tuple[list[str], tuple[float, float]]] = []
        self.note = QLabel("Edit a price and press Enter. An empty price means unknown: costs show as '?'.")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        pairs = list(dict.fromkeys((m.provider, m.model) for m in proto.models))
        prices = services.prices
        self.table.setRowCount(len(pairs))
        for row, (provider, model) in enumerate(pairs):
            price = prices.price(provider, model)
            values = [
                provider,
                model,
                "" if price is None else f"{price.input_per_m:g}",
                "" if price is None else f"{price.output_per_m:g}",
            ]
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col < 2:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, col, item)
        self.table.itemChanged.connect(self.on_changed)

    def on_changed(self, item: QTableWidgetItem) -> None:
        row = item.row()
        cells = [self.table.item(row, col) for col in range(4)]
        texts = [c.text().strip() if c else "" for c in cells]
        if not texts[2] or not texts[3]:
            return
        try:
            numbers = float(texts[2]), float(texts[3])
        except ValueError as exc:
            self.note.setText(f"Not saved: {exc}")
            return
        self._queue.append((texts, numbers))
        self._write_next()

    def _write_next(self) -> None:
        """Write price edits off the GUI thread, one at a time and in order (each rewrites the file)."""
        if self.writing or not self._queue:
            return
        texts, (input_per_m, output_per_m) = self._queue.pop(0)
        prices = self.services.prices
        self.writing = True

        def saved(_result: object) -> None:
            self.note.setText(
                f"Saved: {texts[0]} {texts[1]} costs ${texts[2]} in / ${texts[3]} out per 1M tokens."
            )
            self._written()

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, (ValueError, PriceError, OSError)):
                raise exc
            self.note.setText(f"Not saved: {exc}")
            self._written()

        job = Job(lambda: prices.set_override(texts[0], texts[1], input_per_m, output_per_m))
        job.owned_by(self).success(saved).failure(failed).start()

    def _written(self) -> None:
        self.writing = False
        self._write_next()


class SettingsDialog(QDialog):
    def __init__(self, services: Services, proto: Prototype, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.resize(760, 460)
        self.providers = ProvidersTab(services)
        self.prices = PricesTab(services, proto)
        self.rater = RaterTab()
        tabs = QTabWidget()
        tabs.addTab(self.providers, "Providers and keys")
        tabs.addTab(self.prices, "Prices")
        tabs.addTab(self.rater, "You (rater)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
