"""Generate cases: the editable generation prompt, rules, count and model; proposals stream in to review.

Everything here is display and wiring. The grid, the prompt, reading replies, dropping duplicates,
coverage and turning a proposal into a case are `app/core/casegen`; sending the probes is
`app/engine/casegen.CaseGenerator` on the engine thread (`Services`), whose events come back
through a `GuiRelay`. Accepting a proposal calls `app.core.casegen.proposals.accept` on the open
document and announces it with `Document.structure_edited`, so the navigator and grid follow.

The dialog is bound to the prototype it was opened on: proposals are written against that file's
cases and vars, so when another file is opened (or the document is reloaded or closed to a new
one) while proposals wait, Accept is refused with a message naming both files; rejecting them, or
generating again, binds the dialog to the file now open.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.casegen.checks import check_words
from app.core.casegen.grid import prompt_stand_in, rules_of, unprobed
from app.core.casegen.prompt import PromptTemplate, load_template, save_template
from app.core.casegen.proposals import GenerationResult, Proposal, accept
from app.engine.casegen import (
    DEFAULT_MODEL,
    CaseGenerator,
    GenerationError,
    GenerationEvent,
    GenerationProgress,
    GenerationRequest,
    ProbeFailed,
    ProposalDropped,
    ProposalReceived,
    resolve_target,
)
from app.providers.registry import LOCAL_ID
from app.ui.document_model import Document
from app.ui.host_confirm import confirm_hosts, dialog_asker
from app.ui.jobs import GuiRelay, Job, deliver
from app.ui.plain import plain_label, plain_tip
from app.ui.services import Services

SMALL_MODEL_NOTE = "Small offline model: expect weak cases; pick a hosted model for better ones."
MAX_COUNT = 60


class GenerateDialog(QDialog):
    """Non-modal: generate, review (accept / edit / reject), and keep working in the main window."""

    sig_finished = Signal(object)
    """A generation ended (done, cancelled or failed); carries its GenerationResult."""

    def __init__(
        self, document: Document, services: Services | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generate cases")
        self.document = document
        self._own_services = services is None
        self.services = services if services is not None else Services()
        self._relay = GuiRelay(self)
        self._generator: CaseGenerator | None = None
        self._submitted = False
        """The generation reached the engine thread (before that, Stop just drops it)."""
        self.result: GenerationResult | None = None
        self.pending: list[Proposal] = []
        """Proposals shown in the list, in list order (accepted and rejected ones leave it)."""
        self.keep: list[list[bool]] = []
        """Per pending proposal, which of its proposed checks are ticked (written when accepted)."""
        self._bound_proto = document.proto
        self._bound_name = self._name_of_open_file()
        """The prototype the pending proposals were generated for, and its file name for messages."""
        self._elapsed = QElapsedTimer()
        self._ticker = QTimer(self)  # a slow model writes nothing for a minute: the seconds show it works
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(lambda: self._show_status(running=True))
        self._build()
        self.refresh_rules()
        self._fill_models()
        document.sig_structure_changed.connect(self.refresh_rules)
        document.sig_structure_changed.connect(self._fill_models)
        document.sig_path_changed.connect(self.on_document_swapped)

    # -- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        self.coverage = plain_label()
        self.coverage.setObjectName("generate-coverage")
        self.fill_button = QPushButton("Fill these")
        self.fill_button.setToolTip("Generate cases for exactly the rules no case probes yet")
        self.fill_button.clicked.connect(self.fill_uncovered)
        coverage_row = QHBoxLayout()
        coverage_row.addWidget(self.coverage, 1)
        coverage_row.addWidget(self.fill_button)

        self.rules = QListWidget()
        self.rules.setMaximumHeight(120)
        self.count = QSpinBox()
        self.count.setRange(1, MAX_COUNT)
        self.count.setValue(6)
        self.model = QComboBox()
        self.model.currentIndexChanged.connect(self._update_note)
        self.note = plain_label(SMALL_MODEL_NOTE)
        self.note.setObjectName("generate-small-model-note")
        self.note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Rules", self.rules)
        form.addRow("Proposals", self.count)
        form.addRow("Model", self.model)

        self.system_edit = QPlainTextEdit()
        self.system_edit.setMaximumHeight(70)
        self.user_edit = QPlainTextEdit()
        self.prompt_version = plain_label()
        reset = QPushButton("Reset to built-in prompt")
        reset.clicked.connect(lambda: self.set_template(PromptTemplate()))
        self.system_edit.textChanged.connect(self._update_version)
        self.user_edit.textChanged.connect(self._update_version)
        prompt_box = QGroupBox("Generation prompt: {{placeholders}} are filled per probe; "
                               "kept for you, not in the file")
        prompt_layout = QVBoxLayout(prompt_box)
        prompt_layout.addWidget(QLabel("System"))
        prompt_layout.addWidget(self.system_edit)
        prompt_layout.addWidget(QLabel("User"))
        prompt_layout.addWidget(self.user_edit, 1)
        version_row = QHBoxLayout()
        version_row.addWidget(self.prompt_version, 1)
        version_row.addWidget(reset)
        prompt_layout.addLayout(version_row)
        self.set_template(load_template())

        self.generate_button = QPushButton("Generate")
        self.generate_button.clicked.connect(self.generate)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.status = plain_label()
        self.status.setObjectName("generate-status")
        self.status.setWordWrap(True)
        run_row = QHBoxLayout()
        run_row.addWidget(self.generate_button)
        run_row.addWidget(self.stop_button)
        run_row.addWidget(self.status, 1)

        self.proposals = QListWidget()
        self.proposals.setWordWrap(True)
        self.proposals.currentRowChanged.connect(self._on_current)
        self.message_edit = QPlainTextEdit()
        self.message_edit.setPlaceholderText("The selected proposal's user message: edit it before accepting")
        self.message_edit.setMaximumHeight(90)
        self.checks = QListWidget()
        self.checks.setObjectName("generate-checks")
        self.checks.setMaximumHeight(90)
        self.checks.itemChanged.connect(self._on_check_toggled)
        self.dropped_checks = plain_label()
        self.dropped_checks.setObjectName("generate-dropped-checks")
        self.dropped_checks.setWordWrap(True)
        self.bound_note = plain_label()
        self.bound_note.setObjectName("generate-bound-note")
        self.bound_note.setWordWrap(True)
        self.bound_note.setVisible(False)
        self.accept_button = QPushButton("Accept")
        self.accept_button.clicked.connect(self.accept_current)
        self.reject_button = QPushButton("Reject")
        self.reject_button.clicked.connect(self.reject_current)
        self.accept_all_button = QPushButton("Accept all")
        self.accept_all_button.clicked.connect(self.accept_all)
        review_row = QHBoxLayout()
        for button in (self.accept_button, self.reject_button, self.accept_all_button):
            review_row.addWidget(button)
        review_row.addStretch(1)
        review = QWidget()
        review_layout = QVBoxLayout(review)
        review_layout.setContentsMargins(0, 0, 0, 0)
        review_layout.addWidget(QLabel("Proposals (rule · kind · persona)"))
        review_layout.addWidget(self.proposals, 1)
        review_layout.addWidget(self.message_edit)
        review_layout.addWidget(QLabel("Checks written with it (untick to leave one out)"))
        review_layout.addWidget(self.checks)
        review_layout.addWidget(self.dropped_checks)
        review_layout.addWidget(self.bound_note)
        review_layout.addLayout(review_row)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(form)
        left_layout.addWidget(self.note)
        left_layout.addWidget(prompt_box, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(review)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(coverage_row)
        layout.addWidget(splitter, 1)
        layout.addLayout(run_row)
        self._update_review_buttons()
        self.resize(1100, 640)

    @Slot()
    def _fill_models(self) -> None:
        """The bundled model, then the file's targets; the current choice is kept when it still exists."""
        current = self.model.currentData()
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItem("local (bundled SmolLM2-135M)", DEFAULT_MODEL)
        for target in self.document.proto.models:
            if target.id != DEFAULT_MODEL:
                self.model.addItem(f"{target.label} ({target.provider}: {target.model})", target.id)
        self.model.setCurrentIndex(max(0, self.model.findData(current)))
        self.model.blockSignals(False)
        self._update_note()

    # -- rules and coverage ------------------------------------------------------------------------

    @Slot()
    def refresh_rules(self) -> None:
        """The rule picker and the coverage line, from the open document."""
        checked = set(self.checked_rules()) if self.rules.count() else None
        self.rules.clear()
        refs = rules_of(self.document.proto)
        stand_in = None if refs else prompt_stand_in(self.document.proto)
        for ref in refs or ([stand_in] if stand_in else []):
            item = QListWidgetItem(f"{ref.id}: {ref.rule.rule}")
            item.setData(Qt.ItemDataRole.UserRole, ref.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = checked is None or ref.id in checked
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            item.setToolTip(plain_tip(ref.rule.rule))
            self.rules.addItem(item)
        missing = unprobed(self.document.proto)
        if not self.rules.count():
            self.coverage.setText("Nothing to generate from yet: write a system prompt, a description, or "
                                  "behavior-spec rules first.")
        elif stand_in is not None:
            self.coverage.setText("No behavior-spec rules yet: cases are written from the system prompts. "
                                  "Add rules to a profile to aim cases at each rule and see coverage.")
        elif missing:
            noun = "rule has" if len(missing) == 1 else "rules have"
            self.coverage.setText(f"{len(missing)} {noun} no case: {', '.join(missing)}")
        else:
            self.coverage.setText("Every rule has a case that probes it.")
        self.fill_button.setVisible(bool(missing))
        self.generate_button.setEnabled(bool(self.rules.count()) and self._generator is None)

    def checked_rules(self) -> list[str]:
        return [
            self.rules.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.rules.count())
            if self.rules.item(row).checkState() == Qt.CheckState.Checked
        ]

    def set_checked_rules(self, rule_ids: list[str]) -> None:
        wanted = set(rule_ids)
        for row in range(self.rules.count()):
            item = self.rules.item(row)
            on = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    @Slot()
    def fill_uncovered(self) -> None:
        """Check exactly the unprobed rules, ask for two proposals each, and generate."""
        missing = unprobed(self.document.proto)
        if not missing:
            return
        self.set_checked_rules(missing)
        self.count.setValue(min(MAX_COUNT, 2 * len(missing)))
        self.generate()

    # -- the prompt --------------------------------------------------------------------------------

    def template(self) -> PromptTemplate:
        return PromptTemplate(system=self.system_edit.toPlainText(), user=self.user_edit.toPlainText())

    def set_template(self, template: PromptTemplate) -> None:
        self.system_edit.setPlainText(template.system)
        self.user_edit.setPlainText(template.user)

    def _update_version(self) -> None:
        template = self.template()
        edited = "" if template.is_default else " (edited)"
        self.prompt_version.setText(f"Prompt version {template.version}{edited}")

    def _update_note(self) -> None:
        spec = self.model.currentData() or DEFAULT_MODEL
        try:
            target = resolve_target(self.document.proto, spec)
        except GenerationError:
            self.note.setVisible(False)
            return
        self.note.setVisible(target.provider == LOCAL_ID and target.base_url is None)

    # -- generating --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._generator is not None

    @Slot()
    def generate(self) -> None:
        if self.running:
            return
        if not self.bound:  # proposals for a file no longer open cannot be accepted: start afresh
            self._discard_pending()
            self._rebind()
        rules = self.checked_rules()
        if not rules:
            self.status.setText("Check at least one rule.")
            return
        template = self.template()
        if not template.user.strip():
            self.status.setText("The generation prompt is empty; reset it to the built-in one.")
            return
        Job(lambda: save_template(template)).owned_by(self).failure(lambda _exc: None).start()
        request = GenerationRequest(rules=rules, count=self.count.value(), model=self.model.currentData(),
                                    template=template)
        proto = copy.deepcopy(self.document.proto)  # the engine thread never sees the live document
        try:
            target = resolve_target(proto, request.model)
        except GenerationError as exc:
            self.status.setText(str(exc))
            return
        self._generator = CaseGenerator(lambda: self.services.engine)  # built off the GUI thread
        self.result = GenerationResult()
        self.generate_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText("Starting…")
        self._elapsed.start()
        # a getter: the hub (and so the SDK import) is built in the check's background job
        confirm_hosts(lambda: self.services.hub, [target], dialog_asker(self),
                      lambda: self._start(proto, request), owner=self)

    def _start(self, proto: Any, request: GenerationRequest) -> None:
        generator, result = self._generator, self.result
        if generator is None or result is None:  # stopped while hosts were being confirmed
            return
        self._submitted = True
        self._elapsed.start()  # from the moment the model is asked, not while hosts were confirmed
        self._ticker.start()
        self._show_status(running=True)
        try:
            future = self.services.submit(generator.generate(proto, request, self._post, result))
        except RuntimeError as exc:
            self._ended(str(exc))
            return
        deliver(future, self, lambda _result: self._ended(None),
                lambda exc: self._ended(str(exc) or type(exc).__name__))

    def _post(self, event: GenerationEvent) -> None:
        """Called on the engine thread: handled on the GUI thread."""
        self._relay.post(self.on_event, event)

    @Slot(object)
    def on_event(self, event: GenerationEvent) -> None:
        if isinstance(event, ProposalReceived):
            self._add_item(event.proposal)
        elif isinstance(event, ProposalDropped | ProbeFailed | GenerationProgress):
            self._show_status(running=True)

    @Slot()
    def stop(self) -> None:
        """Stop what has not answered yet; proposals already in the list stay."""
        generator = self._generator
        if generator is None:
            return
        if not self._submitted:  # still asking about hosts: nothing was sent
            if self.result is not None:
                self.result.cancelled = True
            self._ended(None)
            return
        self.status.setText("Stopping…")
        self.services.call(generator.cancel)

    def _ended(self, error: str | None) -> None:
        self._ticker.stop()
        self._generator = None
        self._submitted = False
        if not self.pending and not self.bound:  # stopped because another file opened: follow it
            self._rebind()
        self.stop_button.setEnabled(False)
        self.generate_button.setEnabled(bool(self.rules.count()))
        self._show_status(running=False, error=error)
        self.sig_finished.emit(self.result)

    def _show_status(self, *, running: bool, error: str | None = None) -> None:
        result = self.result
        if result is None:
            return
        if running and not self._submitted:
            return  # still asking whether a key may go to the host: "Starting…" stays
        parts = [f"{result.received} of {result.requested} received" if running
                 else f"{len(result.proposals)} new proposal(s)"]
        if running:
            asked = parts[0] if result.requested else "Asking the model"  # set on the engine thread
            parts[0] = f"{asked} · {self._elapsed.elapsed() // 1000} s"
        if result.duplicates:
            parts.append(f"{len(result.duplicates)} near-duplicate(s) dropped ({result.duplicate_share:.0%})")
        if result.failures:
            parts.append(f"{len(result.failures)} without a usable reply")
        if not running and result.cancelled:
            parts.append("stopped")
        if error:
            parts.append(f"failed: {error}")
        self.status.setText(" · ".join(parts))
        self.status.setToolTip(plain_tip("\n".join(result.failures)))

    # -- reviewing ---------------------------------------------------------------------------------

    def _add_item(self, proposal: Proposal) -> None:
        self.pending.append(proposal)
        self.keep.append([True] * len(proposal.checks))
        item = QListWidgetItem(self._item_text(proposal))
        item.setToolTip(plain_tip(proposal.description))
        self.proposals.addItem(item)
        if self.proposals.currentRow() < 0:
            self.proposals.setCurrentRow(0)
        if not self.bound:  # arrived after another file was opened
            self._show_unbound()
        self._update_review_buttons()

    @staticmethod
    def _item_text(proposal: Proposal) -> str:
        head = f"{proposal.rule_id} · {proposal.kind} · {proposal.persona}"
        text = f"{head}\n{proposal.user_message}\n({proposal.description or 'no description'})"
        if proposal.checks:
            text += f"\n{len(proposal.checks)} proposed check(s)"
        return text

    def _on_current(self, row: int) -> None:
        has = 0 <= row < len(self.pending)
        self.message_edit.setPlainText(self.pending[row].user_message if has else "")
        self.checks.blockSignals(True)
        self.checks.clear()
        if has:
            for check, on in zip(self.pending[row].checks, self.keep[row], strict=True):
                item = QListWidgetItem(check_words(check))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                item.setToolTip(plain_tip(str(check.value)))
                self.checks.addItem(item)
        self.checks.blockSignals(False)
        dropped = self.pending[row].dropped_checks if has else ()
        why = "; ".join(dropped)
        self.dropped_checks.setText(f"Not written (did not validate): {why}" if dropped else "")
        self.dropped_checks.setVisible(bool(dropped))
        self._update_review_buttons()

    @Slot(QListWidgetItem)
    def _on_check_toggled(self, item: QListWidgetItem) -> None:
        row = self.proposals.currentRow()
        if 0 <= row < len(self.keep):
            self.keep[row][self.checks.row(item)] = item.checkState() == Qt.CheckState.Checked

    def set_check(self, index: int, on: bool) -> None:
        """Tick or untick the selected proposal's check `index` (as a click on its box does)."""
        self.checks.item(index).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _update_review_buttons(self) -> None:
        has = 0 <= self.proposals.currentRow() < len(self.pending)
        bound = self.bound
        self.accept_button.setEnabled(has and bound)
        self.reject_button.setEnabled(has)
        self.accept_all_button.setEnabled(bool(self.pending) and bound)
        self.message_edit.setEnabled(has)
        self.checks.setEnabled(has and bound)

    def _take(self, row: int) -> Proposal:
        """Remove a proposal from the list, with only its ticked checks."""
        proposal = self.pending.pop(row).with_checks(self.keep.pop(row))
        self.proposals.takeItem(row)
        if not self.pending and not self.bound and not self.running:
            self._rebind()
        self._update_review_buttons()
        return proposal

    @Slot()
    def accept_current(self) -> None:
        """Add the selected proposal as a case, with the message as edited in the box."""
        row = self.proposals.currentRow()
        if not 0 <= row < len(self.pending) or not self._may_accept():
            return
        text = self.message_edit.toPlainText().strip()
        proposal = self._take(row)
        if text and text != proposal.user_message:
            proposal = proposal.edited(text)
        self._accept([proposal])

    @Slot()
    def reject_current(self) -> None:
        row = self.proposals.currentRow()
        if 0 <= row < len(self.pending):
            self._take(row)

    @Slot()
    def accept_all(self) -> None:
        if not self._may_accept():
            return
        proposals = [p.with_checks(keep) for p, keep in zip(self.pending, self.keep, strict=True)]
        self.pending.clear()
        self.keep.clear()
        self.proposals.clear()
        self._update_review_buttons()
        self._accept(proposals)

    def _accept(self, proposals: list[Proposal]) -> None:
        if not proposals or not self._may_accept():
            return
        added = accept(self.document.proto, proposals)
        self.document.structure_edited()
        self.status.setText(f"Added {', '.join(case.id for case in added)}")

    # -- the file the proposals belong to ----------------------------------------------------------

    @property
    def bound(self) -> bool:
        """The open document is still the one the pending proposals were generated for."""
        return self.document.proto is self._bound_proto

    def _name_of_open_file(self) -> str:
        path = self.document.path
        return path.name if path is not None else "the unsaved prototype"

    def _may_accept(self) -> bool:
        """Refuse, saying why, to write proposals into a file they were not generated for."""
        if self.bound:
            return True
        self._show_unbound()
        return False

    def _show_unbound(self) -> None:
        self.bound_note.setText(
            f"These proposals were generated for {self._bound_name}, which is no longer open (now: "
            f"{self._name_of_open_file()}), so they cannot be accepted here. Reject them, or Generate "
            "again for this file."
        )
        self.bound_note.setVisible(True)
        self._update_review_buttons()

    @Slot()
    def on_document_swapped(self) -> None:
        """Another file was opened, or this one reloaded or replaced: follow it when nothing waits,
        else stop generating and refuse to accept what was proposed for the old one."""
        if self.bound:
            self._bound_name = self._name_of_open_file()  # a save-as renames the same prototype
            return
        if self.running:
            self.stop()
        if self.pending:
            self._show_unbound()
        elif not self.running:
            self._rebind()

    def _rebind(self) -> None:
        self._bound_proto = self.document.proto
        self._bound_name = self._name_of_open_file()
        self.bound_note.setVisible(False)
        self._update_review_buttons()

    def _discard_pending(self) -> None:
        self.pending.clear()
        self.keep.clear()
        self.proposals.clear()

    # -- closing -----------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop a running generation; close the engine thread if this dialog started its own."""
        self._ticker.stop()
        if self._generator is not None:
            self.services.call(self._generator.cancel)
        if self._own_services:
            self.services.close()

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)

    def reject(self) -> None:
        """Esc or the window's close button: stop generating (proposals not accepted are let go)."""
        self.stop()
        super().reject()
