"""Edit a case's simulated user: who plays the user after the fixed turns, and how long.

The fields write a whole new `SimulatedUser` into the case on each edit, so the document model's
own rules (turn bounds, a script no longer than max_turns) decide what is valid; an edit they
refuse is shown in red and not written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import ValidationError
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.prototype import MAX_SIMULATED_TURNS, Case, SimulatedUser

BUNDLED = "Bundled model (offline)"
WEAK_NOTE = (
    "A model plays the user after the turns above, one message per reply, until it says it is done "
    "or Max turns is reached; every column meets the same user. The bundled 135M model plays users "
    "weakly: pick a capable model target for realistic turns. A script replaces the model (one "
    "message per line) and runs the same every time."
)


class SimulatedUserEditor(QWidget):
    """Writes edits into `case.simulated_user` and reports them through `on_edit(structural)`."""

    def __init__(self, on_edit: Callable[[bool], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_edit = on_edit
        self.case: Case | None = None
        # short: a check box never wraps, and the editor pane is ~280 px at 1280x800 (the note explains)
        self.enabled = QCheckBox("Continue with a simulated user")
        self.enabled.setObjectName("sim-enabled")
        self.enabled.toggled.connect(self._toggled)
        self.persona = QPlainTextEdit()
        self.persona.setObjectName("sim-persona")
        self.persona.setPlaceholderText("Who the user is, e.g. a busy PM who wants the number, nothing else")
        self.persona.setMaximumHeight(56)
        self.goal = QLineEdit()
        self.goal.setObjectName("sim-goal")
        self.goal.setPlaceholderText("What they want, e.g. get 18% of $64")
        self.max_turns = QSpinBox()
        self.max_turns.setObjectName("sim-max-turns")
        self.max_turns.setRange(1, MAX_SIMULATED_TURNS)
        self.max_turns.setToolTip("The most user messages written after the case's turns")
        self.model = QComboBox()
        self.model.setObjectName("sim-model")
        self.model.setToolTip("The model target that plays the user")
        self.seed = QLineEdit()
        self.seed.setObjectName("sim-seed")
        self.seed.setPlaceholderText("automatic (from the case id)")
        self.script = QPlainTextEdit()
        self.script.setObjectName("sim-script")
        self.script.setPlaceholderText("Optional: fixed user messages, one per line (no model is asked)")
        self.script.setMaximumHeight(72)
        self.problem = QLabel()
        self.problem.setObjectName("sim-problem")
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.setWordWrap(True)
        self.problem.hide()
        note = QLabel(WEAK_NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color: gray;")
        self.fields = QWidget()
        form = QFormLayout(self.fields)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Persona", self.persona)
        form.addRow("Goal", self.goal)
        form.addRow("Max turns", self.max_turns)
        form.addRow("Model", self.model)
        form.addRow("Seed", self.seed)
        form.addRow("Script", self.script)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled)
        layout.addWidget(self.fields)
        layout.addWidget(self.problem)
        layout.addWidget(note)
        self.persona.textChanged.connect(self._edited)
        self.script.textChanged.connect(self._edited)
        self.goal.textEdited.connect(self._edited)
        self.seed.textEdited.connect(self._edited)
        self.max_turns.valueChanged.connect(self._edited)
        self.model.currentIndexChanged.connect(self._edited)

    def set_case(self, case: Case, models: Sequence[str]) -> None:
        self.case = case
        sim = case.simulated_user
        widgets = (self.enabled, self.persona, self.goal, self.max_turns, self.model, self.seed, self.script)
        blockers = [QSignalBlocker(w) for w in widgets]
        self.model.clear()
        self.model.addItem(BUNDLED, None)
        for model_id in models:
            self.model.addItem(model_id, model_id)
        shown = sim or SimulatedUser()
        if shown.model is not None and shown.model not in models:  # a deleted target: keep it visible
            self.model.addItem(f"{shown.model} (not in this file)", shown.model)
        self.enabled.setChecked(sim is not None)
        self.persona.setPlainText(shown.persona)
        self.goal.setText(shown.goal)
        self.max_turns.setValue(shown.max_turns)
        self.model.setCurrentIndex(max(0, self.model.findData(shown.model)))
        self.seed.setText("" if shown.seed is None else str(shown.seed))
        self.script.setPlainText("\n".join(shown.script))
        for blocker in blockers:
            blocker.unblock()
        self.fields.setEnabled(sim is not None)
        self.problem.hide()

    # -- edits -------------------------------------------------------------------------------------

    def _toggled(self, on: bool) -> None:
        self.fields.setEnabled(on)
        if self.case is None:
            return
        if not on and not self.case.turns:  # it writes the first message: the case would have none
            with QSignalBlocker(self.enabled):
                self.enabled.setChecked(True)
            self.fields.setEnabled(True)
            self._refuse("this case has no fixed turn, so its simulated user writes the first message: "
                         "add a turn before turning it off.")
            return
        if not on:
            self.case.simulated_user = None
            self.problem.hide()
            self._on_edit(True)
        else:
            self._edited()

    def _edited(self) -> None:
        if self.case is None or not self.enabled.isChecked():
            return
        seed_text = self.seed.text().strip()
        try:
            seed = int(seed_text) if seed_text else None
        except ValueError:
            self._refuse("Seed must be a whole number, or empty for an automatic one.")
            return
        try:
            sim = SimulatedUser(
                persona=self.persona.toPlainText().strip(),
                goal=self.goal.text().strip(),
                max_turns=self.max_turns.value(),
                model=self.model.currentData(),
                seed=seed,
                script=[line.strip() for line in self.script.toPlainText().splitlines() if line.strip()],
            )
        except ValidationError as exc:
            self._refuse("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
            return
        self.problem.hide()
        if sim != self.case.simulated_user:  # text edits re-emit without a real change
            self.case.simulated_user = sim
            self._on_edit(True)

    def _refuse(self, message: str) -> None:
        self.problem.setText(f"Not saved: {message}")
        self.problem.show()
