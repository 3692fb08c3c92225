"""The Evals tab: edit assertions, accept seeded proposals, run evals off the GUI thread, read the results.

The panel drives `app.engine.evals.EvalRunner` on the app's engine thread (`Services`) and
never grades anything itself. It reads `document.proto` and writes through the document
(`evals_edited`, `record_eval`), so every other view hears about the changes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QElapsedTimer, QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.agreement import CheckAgreement, check_inputs, checks_from
from app.core.evals.assertions import TYPES, AssertionSpecError, check_assertion
from app.core.evals.editing import value_from_text, value_to_text
from app.core.prototype import Assertion, Prototype
from app.core.seeding import DEFAULT_TARGET, apply, propose, team_support
from app.core.structure import label
from app.engine.evals import EvalOptions, EvalOutcome, EvalProgress, EvalRunner
from app.ui.document_model import Document
from app.ui.evals_proposals import ProposalsDialog
from app.ui.evals_reasons import ReasonsTable
from app.ui.evals_results import (
    FAIL_COLOR,
    AssertionTable,
    HintTable,
    PassMatrix,
    PassRateChart,
    latest_summary,
)
from app.ui.jobs import GuiRelay, Job, deliver
from app.ui.plain import plain_label, plain_tip
from app.ui.selection import Selection
from app.ui.services import Services

COLUMNS = ("Type", "Value", "Weight", "Threshold", "Description")
BUNDLED = "Bundled local model"
EMPTY_ASSERTIONS = (
    "No checks here yet. Press Add to write one (e.g. contains, max-words, llm-rubric), "
    "or rate answers in the Grid with thumbs and notes, then press “Propose from ratings…”."
)


class AssertionEditor(QWidget):
    """A table of one scope's assertions (every case, or one case) that writes edits straight through."""

    sig_edited = Signal()
    """An assertion was added, removed or changed in the prototype."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.scope = QComboBox()
        self.table = HintTable(0, len(COLUMNS))
        self.table.empty_hint = EMPTY_ASSERTIONS
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Types: " + ", ".join(TYPES) + ". Prefix any type with not- to negate it.")
        self.problem = plain_label()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020")
        add = QPushButton("Add")
        add.clicked.connect(self.add_assertion)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_selected)
        top = QHBoxLayout()
        top.addWidget(QLabel("Assertions for"))
        top.addWidget(self.scope, 1)
        top.addWidget(add)
        top.addWidget(remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        self.scope.currentIndexChanged.connect(self.reload)
        self.table.itemChanged.connect(self.on_item_changed)
        self.reload_scopes()

    # -- model access -------------------------------------------------------------------------------

    def assertions(self) -> list[Assertion]:
        target = self.scope.currentData() or DEFAULT_TARGET
        if target == DEFAULT_TARGET:
            return self.document.proto.default_assert
        try:
            return self.document.proto.case(target).assert_
        except KeyError:
            return []

    def select_scope(self, target: str) -> None:
        index = self.scope.findData(target)
        if index >= 0:
            self.scope.setCurrentIndex(index)

    # -- building -----------------------------------------------------------------------------------

    def reload_scopes(self) -> None:
        current = self.scope.currentData() or DEFAULT_TARGET
        with QSignalBlocker(self.scope):
            self.scope.clear()
            self.scope.addItem("Checks for every case", DEFAULT_TARGET)
            for case in self.document.proto.cases:
                self.scope.addItem(f"Case: {label(case)}", case.id)
                self.scope.setItemData(self.scope.count() - 1, f"Case id: {case.id}",
                                       Qt.ItemDataRole.ToolTipRole)
            index = self.scope.findData(current)
            self.scope.setCurrentIndex(max(index, 0))
        self.reload()

    @Slot()
    def reload(self) -> None:
        items = self.assertions()
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(items))
            for row, assertion in enumerate(items):
                texts = (
                    assertion.type,
                    value_to_text(assertion.value),
                    f"{assertion.weight:g}",
                    "" if assertion.threshold is None else f"{assertion.threshold:g}",
                    assertion.description,
                )
                for col, text in enumerate(texts):
                    self.table.setItem(row, col, QTableWidgetItem(text))
                self._flag(row, assertion)

    def _flag(self, row: int, assertion: Assertion) -> None:
        try:
            check_assertion(assertion)
            error = ""
        except AssertionSpecError as exc:
            error = str(exc)
        for col in range(len(COLUMNS)):
            item = self.table.item(row, col)
            if item is not None:
                item.setBackground(QBrush(FAIL_COLOR) if error else QBrush())
                item.setToolTip(plain_tip(error))
        if error:
            self.problem.setText(f"Row {row + 1}: {error}")

    # -- editing ------------------------------------------------------------------------------------

    @Slot()
    def add_assertion(self) -> None:
        self.assertions().append(Assertion(type="contains", value="text to find"))
        self.reload()
        self.sig_edited.emit()

    @Slot()
    def remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        items = self.assertions()
        for row in rows:
            if 0 <= row < len(items):
                del items[row]
        if rows:
            self.reload()
            self.sig_edited.emit()

    @Slot(QTableWidgetItem)
    def on_item_changed(self, item: QTableWidgetItem) -> None:
        row = item.row()
        items = self.assertions()
        if not 0 <= row < len(items):
            return
        cells = [self.table.item(row, col) for col in range(len(COLUMNS))]
        type_text, value_text, weight_text, threshold_text, description = (
            c.text() if c is not None else "" for c in cells
        )
        self.problem.clear()
        try:
            weight = float(weight_text or 1)
            threshold = float(threshold_text) if threshold_text.strip() else None
            updated = Assertion(
                type=type_text.strip() or "contains",
                value=value_from_text(type_text, value_text),
                weight=weight,
                threshold=threshold,
                judge=items[row].judge,
                description=description,
            )
        except ValueError as exc:
            self.problem.setText(
                f"Row {row + 1}: weight must be a number of 0 or more and threshold a number "
                f"from 0 to 1 ({str(exc).splitlines()[0]})"
            )
            return
        items[row] = updated
        with QSignalBlocker(self.table):
            self._flag(row, updated)
        self.sig_edited.emit()


class EvalsPanel(QWidget):
    """Assertions, proposals, runs and results of evals for the open document."""

    sig_finished = Signal(object)
    """An eval run finished and was stored (the EvalOutcome)."""
    sig_failed = Signal(str)
    """An eval run could not start or crashed (a message for the person)."""

    def __init__(
        self,
        document: Document,
        services: Services | None = None,
        selection: Selection | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`selection`: the grid's ticks; evals run only the ticked variants (all without one)."""
        super().__init__(parent)
        self.document = document
        self.selection = selection
        self._own_services = services is None
        self.services: Services = services if services is not None else Services()
        self._starting = False
        self._runner: EvalRunner | None = None
        self._source: object = None
        self._relay = GuiRelay(self)
        self.dialog: ProposalsDialog | None = None
        self._build()
        document.sig_evals_changed.connect(self.on_evals_changed)
        document.sig_structure_changed.connect(self.on_structure_changed)
        document.sig_evals_changed.connect(self.refresh_team_flags)
        document.sig_rating_changed.connect(self.refresh_team_flags)
        self.refresh_results()
        self.refresh_team_flags()

    def refresh_team_flags(self, *_args: object) -> None:
        """Flag model-graded checks that disagree with the team's thumbs, before anyone relies on them."""
        verdicts, thumbs = check_inputs(self.document.proto)
        if not verdicts:
            self.team_flags.hide()
            return
        Job(lambda: checks_from(verdicts, thumbs)).owned_by(self).success(self._show_team_flags).start()

    def _show_team_flags(self, checks: list[CheckAgreement]) -> None:
        flagged = [c for c in checks if c.flagged]
        self.team_flags.setVisible(bool(flagged))
        self.team_flags.setText("\n".join(
            f"⚠ {c.key} ({c.type}) disagrees with the team's thumbs: {c.summary} · "
            f"passed on {c.pass_up} up / {c.pass_down} down, failed on {c.fail_up} up / {c.fail_down} down"
            for c in flagged
        ))

    def _build(self) -> None:
        self.editor = AssertionEditor(self.document)
        self.editor.sig_edited.connect(self.document.evals_edited)
        self.propose_button = QPushButton("Propose from ratings…")
        self.propose_button.setToolTip(
            "Seed assertions from thumbs up / down, notes and behavior specs; you review each one"
        )
        self.propose_button.clicked.connect(self.propose)
        self.run_button = QPushButton("Run evals")
        self.run_button.clicked.connect(self.run_evals)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.baseline = QCheckBox("Prompted baseline")
        self.baseline.setToolTip(
            "Also run each model with no system prompt, to see which assertions "
            "actually measure what the profile adds"
        )
        self.judge = QComboBox()
        self.embedder = QComboBox()
        self._fill_model_choices()
        self.status = plain_label()  # "Eval failed: <server text>"
        self.status.setObjectName("evals-status")
        self.status.setWordWrap(True)  # own line: long text must not widen the tab
        # two rows: on one (920 px) this tab set the minimum width of every tab, and a 1280 px
        # window squeezed the editor pane to 180 px to make room for it
        actions = QHBoxLayout()
        for widget in (self.propose_button, self.run_button, self.cancel_button, self.baseline):
            actions.addWidget(widget)
        actions.addStretch(1)
        graders = QHBoxLayout()
        for combo in (self.judge, self.embedder):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
        graders.addWidget(QLabel("Judge"))
        graders.addWidget(self.judge, 1)
        graders.addWidget(QLabel("Embeddings"))
        graders.addWidget(self.embedder, 1)
        graders.addStretch(1)
        bar = QVBoxLayout()
        bar.addLayout(actions)
        bar.addLayout(graders)
        self.matrix = PassMatrix()
        self.assertion_table = AssertionTable()
        self.chart = PassRateChart()
        self.reasons = ReasonsTable()
        self.progress = QProgressBar()
        self.progress.setObjectName("evals-progress")
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.elapsed = QElapsedTimer()
        self._progress_words = ""
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._show_progress_words)
        results = QTabWidget()
        results.addTab(self.matrix, "Matrix")
        results.addTab(self.assertion_table, "Assertions && discrimination")
        results.addTab(self.chart, "Pass rate over time")
        self.results_tabs = results
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(bar)
        lower_layout.addWidget(self.progress)
        lower_layout.addWidget(self.status)
        from app.ui.batch_status import BatchStatus

        self.batches = BatchStatus(self.document, self.services)
        lower_layout.addWidget(self.batches)
        self.team_flags = plain_label()  # check keys and types come from the file
        self.team_flags.setObjectName("evals-team-flags")
        self.team_flags.setWordWrap(True)
        self.team_flags.setStyleSheet("color: #8a5300;")
        self.team_flags.hide()
        lower_layout.addWidget(self.team_flags)
        lower_layout.addWidget(results, 1)
        # checks | matrix | reasons share the height; every part scrolls inside its own space,
        # so a long list of reasons never grows the window past the screen
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("evals-splitter")
        splitter.setChildrenCollapsible(False)
        for widget in (self.editor, lower, self.reasons):
            widget.setMinimumHeight(60)
            splitter.addWidget(widget)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 380, 200])
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _fill_model_choices(self) -> None:
        for combo in (self.judge, self.embedder):
            current = combo.currentData()
            with QSignalBlocker(combo):
                combo.clear()
                combo.addItem(BUNDLED, None)
                for target in self.document.proto.models:
                    combo.addItem(target.label, target.id)
                index = combo.findData(current)
                combo.setCurrentIndex(max(index, 0))

    # -- document events ------------------------------------------------------------------------------

    @Slot()
    def on_evals_changed(self) -> None:
        if not self.editor.table.hasFocus():
            self.editor.reload()
        self.refresh_results()

    @Slot()
    def on_structure_changed(self) -> None:
        self.editor.reload_scopes()
        self._fill_model_choices()
        self.refresh_results()

    def refresh_results(self) -> None:
        proto = self.document.proto
        latest = latest_summary(proto)
        run, summary = latest if latest else (None, None)
        self.matrix.show_run(proto, run)
        self.assertion_table.show_summary(summary)
        self.chart.show_runs(proto.evals)
        self.reasons.show_run(proto, run)
        if summary is not None and self._runner is None:
            text = f"Latest: {summary.pass_rate * 100:.0f}% passed"
            if summary.baseline_pass_rate is not None:
                text += f", baseline {summary.baseline_pass_rate * 100:.0f}%"
            self.status.setText(text)

    # -- proposals ------------------------------------------------------------------------------------

    @Slot()
    def propose(self) -> ProposalsDialog | None:
        """Open the review dialog (non-modal); accepted proposals go into the file."""
        proposals = propose(self.document.proto)
        if not proposals:
            self.status.setText(
                "Nothing to propose yet: rate answers in the Grid (thumbs up / down, notes) "
                "or add rules to a profile's behavior spec"
            )
            return None
        support = [team_support(self.document.proto, p) for p in proposals]
        dialog = ProposalsDialog(proposals, self, support)
        dialog.accepted.connect(lambda: self._accept_proposals(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _accept_proposals(self, dialog: ProposalsDialog) -> None:
        chosen = dialog.accepted_proposals()
        if chosen:
            apply(self.document.proto, chosen)
            self.document.evals_edited()
            self.status.setText(f"Added {len(chosen)} of {len(dialog.proposals)} proposed assertions")
            target = chosen[0].target
            self.editor.select_scope(target)

    # -- running --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._runner is not None or self._starting

    def options(self) -> EvalOptions:
        """What to evaluate: the ticked profiles and models (an empty list would mean all of them)."""
        profiles: list[str] = []
        models: list[str] = []
        if self.selection is not None:
            profiles = self.selection.shown(self.document.proto, "profiles")
            models = self.selection.shown(self.document.proto, "models")
        return EvalOptions(
            profiles=profiles,
            models=models,
            baseline=self.baseline.isChecked(),
            judge=self.judge.currentData(),
            embedder=self.embedder.currentData(),
        )

    @Slot()
    def run_evals(self) -> None:
        """Start an eval of every profile × model on a copy of the prototype; results arrive by signal."""
        if self._runner is not None or self._starting:
            return
        source = self.document.proto
        if self.selection is not None and not self.selection.columns(source):
            self._fail("Tick at least one profile and one model on the left: evals run the ticked variants.")
            return
        proto = source.model_copy(deep=True)
        models = [m for m in proto.models if m.id in (self.options().models or [m.id for m in proto.models])]
        from app.ui.host_confirm import confirm_hosts, dialog_asker

        self._starting = True
        self.run_button.setEnabled(False)
        self.status.setText("Starting…")
        # key look-ups run off the GUI thread; the eval starts once they (and any question) are done
        ask = dialog_asker(self)
        confirm_hosts(lambda: self.services.hub, models, ask, lambda: self._start(proto, source), owner=self)

    def _start(self, proto: Prototype, source: Prototype) -> None:
        self._starting = False
        runner = EvalRunner(self.services.hub, self.services.engine)
        self._runner = runner
        self._source = source
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("Starting…")
        try:
            future = self.services.submit(runner.run(proto, self.options(), self._post_progress))
        except RuntimeError as exc:
            self._done()
            self._fail(str(exc))
            return
        deliver(future, self, self._finished, lambda exc: self._fail(str(exc) or type(exc).__name__))

    @Slot()
    def cancel(self) -> None:
        if self._runner is not None:
            self.services.call(self._runner.cancel)
            self.status.setText("Cancelling…")

    def _post_progress(self, progress: EvalProgress) -> None:
        """Called on the engine thread: shown on the GUI thread."""
        self._relay.post(self.on_progress, progress)

    @Slot(object)
    def on_progress(self, progress: EvalProgress) -> None:
        if self._runner is None:
            return
        if not self.progress.isVisible():
            self.elapsed.start()
            self._ticker.start()
            self.progress.show()
        label = "Running cells" if progress.stage == "run" else "Grading"
        self.progress.setMaximum(max(progress.total, 1))
        self.progress.setValue(progress.done)
        self.progress.setFormat(f"{label} %v of %m")
        words = f"{label} {progress.done}/{progress.total}"
        if progress.stage == "grade" and progress.done:
            words += f" · {progress.passed / progress.done * 100:.0f}% passed so far"
        self._progress_words = words
        self._show_progress_words()

    def _show_progress_words(self) -> None:
        if self._runner is not None and self._progress_words:
            seconds = self.elapsed.elapsed() // 1000 if self.elapsed.isValid() else 0
            self.status.setText(f"{self._progress_words} · {seconds} s")

    def _finished(self, outcome: EvalOutcome) -> None:
        self._done()
        if self.document.proto is not self._source:  # another file was opened meanwhile
            self.status.setText("Eval finished for a file that is no longer open; results dropped")
            return
        self.document.record_eval(outcome.new_runs, outcome.eval_run)
        text = f"Pass rate {outcome.summary.pass_rate * 100:.0f}%"
        if outcome.summary.baseline_pass_rate is not None:
            text += f", baseline {outcome.summary.baseline_pass_rate * 100:.0f}%"
        if outcome.regressions:
            text += f" · {len(outcome.regressions)} regressions"
        self.status.setText(text)
        self.sig_finished.emit(outcome)

    def _fail(self, message: str) -> None:
        self._done()
        self.status.setText(f"Eval failed: {message}")
        self.sig_failed.emit(message)

    def _done(self) -> None:
        self._ticker.stop()
        self.progress.hide()
        self._progress_words = ""
        self._runner = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def shutdown(self) -> None:
        """Stop the engine thread if this panel started its own (the main window closes shared ones)."""
        if self._own_services:
            self.services.close()

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)
