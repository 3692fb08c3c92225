"""Edit one model target: provider, model name (with a picker from the endpoint), endpoint, parameters."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.prototype import ModelParams, ModelTarget
from app.core.structure import LOCAL_MODEL
from app.providers.pricing import shipped_table
from app.providers.registry import LOCAL_ID
from app.ui.jobs import deliver
from app.ui.services import Services

UNSET = "default"


def known_models(provider_id: str) -> list[str]:
    """Models we know a provider offers before asking it: the bundled one, or those with a price."""
    if provider_id == LOCAL_ID:
        return [LOCAL_MODEL]
    try:
        table = shipped_table()
    except Exception:  # a broken price file must not break the editor
        return []
    return [m for m in table.get(provider_id, {}) if m != "*"]


def _double(maximum: float, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(-step, maximum)
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setSpecialValueText(UNSET)  # the minimum means "not set": the endpoint decides
    return box


class ModelEditor(QWidget):
    """Writes edits into the target; `on_edit(structural)` reports them."""

    def __init__(
        self, services: Services, on_edit: Callable[[bool], None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self._on_edit = on_edit
        self.target: ModelTarget | None = None
        self._switched = False
        """The provider was just switched: the next model list replaces a name it doesn't offer."""
        self.heading = QLabel()
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name shown on grid columns")
        self.provider = QComboBox()
        self.provider.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.provider.setMinimumContentsLength(12)
        self.provider.setToolTip(
            "Which endpoint answers. Keys are set in Settings, never stored in the file."
        )
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(6)  # a minimum only: the row gives it the spare width
        self.model.setToolTip("The model id the endpoint knows, e.g. gpt-4o-mini")
        self.list_button = QPushButton("List models")
        self.list_button.setToolTip("Ask the endpoint which models it offers")
        self.list_button.clicked.connect(self.list_models)
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("the provider's own endpoint")
        self.base_url.setToolTip(
            "Point this target at another OpenAI-compatible server. A stored key is not "
            "sent to a new host without asking."
        )
        self.temperature = _double(2.0, 0.1)
        self.top_p = _double(1.0, 0.05)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(0, 1_000_000)
        self.max_tokens.setSpecialValueText(UNSET)
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2_000_000_000)
        self.seed.setSpecialValueText(UNSET)
        self.timeout = QSpinBox()
        self.timeout.setObjectName("model-timeout")
        self.timeout.setRange(0, 3600)
        self.timeout.setSuffix(" s")
        self.timeout.setSpecialValueText("default (60 s)")
        self.timeout.setToolTip("How long to wait for this model's answer before giving up")
        self.hint = QLabel()
        self.hint.setTextFormat(Qt.TextFormat.PlainText)  # quotes the endpoint's errors
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: gray;")
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.list_button)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Provider", self.provider)
        form.addRow("Model", model_row)
        form.addRow("Endpoint", self.base_url)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top p", self.top_p)
        form.addRow("Max tokens", self.max_tokens)
        form.addRow("Seed", self.seed)
        form.addRow("Timeout", self.timeout)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self.name.textEdited.connect(lambda: self._edited(True))
        self.provider.currentIndexChanged.connect(self._provider_switched)
        self.model.currentTextChanged.connect(lambda: self._edited(True))
        self.base_url.editingFinished.connect(lambda: self._edited(False))
        for box in (self.temperature, self.top_p, self.max_tokens, self.seed, self.timeout):
            box.valueChanged.connect(lambda _v: self._edited(False))

    def _provider_ids(self) -> list[tuple[str, str]]:
        try:
            return [(spec.id, spec.name) for spec in self.services.registry.all()]
        except Exception:  # a broken custom-providers file: still show the target's own provider
            return []

    def set_target(self, target: ModelTarget) -> None:
        self.target = target
        self._switched = False
        self.heading.setText(
            f"<b>Model target</b> <span style='color:gray'>id: {html.escape(target.id)}</span>"
        )
        widgets = (
            self.name,
            self.provider,
            self.model,
            self.base_url,
            self.temperature,
            self.top_p,
            self.max_tokens,
            self.seed,
            self.timeout,
        )
        blockers = [QSignalBlocker(w) for w in widgets]
        self.name.setText(target.name)
        self.provider.clear()
        providers = self._provider_ids()
        if target.provider not in [p for p, _ in providers]:
            providers.append((target.provider, f"{target.provider} (not configured here)"))
        for provider_id, name in providers:
            self.provider.addItem(f"{name} ({provider_id})", provider_id)
        self.provider.setCurrentIndex(self.provider.findData(target.provider))
        self.model.clear()
        self.model.addItem(target.model)
        self.model.setCurrentText(target.model)
        self.base_url.setText(target.base_url or "")
        params = target.params
        self.temperature.setValue(params.temperature if params.temperature is not None else -0.1)
        self.top_p.setValue(params.top_p if params.top_p is not None else -0.05)
        self.max_tokens.setValue(params.max_tokens or 0)
        self.seed.setValue(params.seed if params.seed is not None else -1)
        self.timeout.setValue(round(target.timeout_s or 0))
        del blockers
        self.hint.setText("")

    def _edited(self, structural: bool) -> None:
        target = self.target
        if target is None:
            return
        try:
            target.name = self.name.text()
            target.provider = self.provider.currentData() or target.provider
            if self.model.currentText().strip():
                target.model = self.model.currentText().strip()
            target.base_url = self.base_url.text().strip() or None
            target.timeout_s = float(self.timeout.value()) or None
            # merging into the old params keeps those this editor has no field for (stop, tools, ...)
            target.params = ModelParams.model_validate({
                **target.params.model_dump(),
                "temperature": None if self.temperature.value() < 0 else round(self.temperature.value(), 2),
                "top_p": None if self.top_p.value() < 0 else round(self.top_p.value(), 2),
                "max_tokens": self.max_tokens.value() or None,
                "seed": None if self.seed.value() < 0 else self.seed.value(),
            })
        except ValueError as exc:
            self.hint.setText(str(exc).splitlines()[0])
            return
        self.hint.setText("")
        self._on_edit(structural)

    def _provider_switched(self) -> None:
        """Another provider: offer its models and never keep the previous provider's model name
        (nor its endpoint override, which pointed at the previous provider's server)."""
        target = self.target
        new = self.provider.currentData()
        if target is None or not new or new == target.provider:
            self._edited(True)
            return
        models = known_models(new)
        with QSignalBlocker(self.model), QSignalBlocker(self.base_url):
            self.model.clear()
            self.model.addItems(models)
            self.model.setCurrentText(models[0] if models else "")
            self.base_url.clear()
        line = self.model.lineEdit()
        if line is not None:
            line.setPlaceholderText(f"a model id of {self.provider.currentText()}")
        self._switched = True
        self._edited(True)
        if new != LOCAL_ID:
            self.list_models()  # the provider's own list, when it answers

    def list_models(self) -> None:
        target = self.target
        if target is None:
            return
        self.list_button.setEnabled(False)
        self.hint.setText("Asking the endpoint for its models…")
        asked = (target.id, target.provider, target.base_url)
        future = self.services.submit(self.services.hub.list_models(target.provider, target.base_url))
        deliver(
            future, self,
            lambda models: self._models_listed(models) if self._still(asked) else None,
            lambda exc: self._models_failed(exc) if self._still(asked) else None,
        )

    def _still(self, asked: tuple[str, str, str | None]) -> bool:
        """An answer about the provider the target has now (a late one about the previous is dropped)."""
        target = self.target
        return target is not None and (target.id, target.provider, target.base_url) == asked

    def _models_listed(self, models: list[str]) -> None:
        self.list_button.setEnabled(True)
        current = self.model.currentText()
        switched, self._switched = self._switched, False
        if switched and models and current not in models:
            current = models[0]  # just switched provider: one of its own models, not a leftover
        with QSignalBlocker(self.model):
            self.model.clear()
            self.model.addItems(models)
            self.model.setCurrentText(current)
        if switched:
            self._edited(True)
        self.hint.setText(f"{len(models)} model(s) available; pick one from the list.")

    def _models_failed(self, exc: BaseException) -> None:
        self.list_button.setEnabled(True)
        self._switched = False
        self.hint.setText(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
