"""The Evals tab's strip of provider batches still pending in this file (`--batch`): status, Check,
Collect, Cancel.

A batch runs at the provider for up to 24 h, usually started from the CLI (OpenAI-style
`/batches`, or Anthropic's Message Batches: `engine.batch.batch_api` picks the API by the
target's provider). This strip shows each pending one, asks the provider for its status on
request, collects an ended one and cancels it; the provider calls run on the engine thread
(`Services`). Collect runs the code `protostudio run|eval FILE --batch` ends a batch with
(`BatchRunner.collect_if_ended`: check, then download and turn the answers into runs at the
batch price) on a copy of the prototype, and the runs join the document through
`Document.add_runs`, the core's storing policy, as the CLI's do. An eval batch's answers are
then graded by Run evals, which reuses them from the file.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.batch import pending_jobs
from app.core.prototype import BatchJob, Prototype
from app.ui.document_model import Document
from app.ui.jobs import deliver
from app.ui.services import Services


class BatchStatus(QWidget):
    """One row per pending batch; hidden when there is none."""

    def __init__(self, document: Document, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.services = services
        self.rows: dict[str, tuple[QLabel, QPushButton, QPushButton]] = {}
        self.collect_buttons: dict[str, QPushButton] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.notice = QLabel()
        """What the last Collect did; stays after its batch's row is gone."""
        self.notice.setWordWrap(True)
        self.notice.hide()
        self._layout.addWidget(self.notice)
        document.sig_changed.connect(self.reload)
        self.reload()

    @Slot()
    def reload(self) -> None:
        jobs = pending_jobs(self.document.proto.batches)
        for job_id in list(self.rows):
            if job_id not in {j.id for j in jobs}:
                label, *_ = self.rows.pop(job_id)
                self.collect_buttons.pop(job_id, None)
                row = label.parentWidget()
                if row is not None:
                    row.deleteLater()
        for job in jobs:
            if job.id not in self.rows:
                self._add_row(job)
            self.rows[job.id][0].setText(self.describe(job))
        self.setVisible(bool(jobs) or not self.notice.isHidden())

    @staticmethod
    def describe(job: BatchJob, state: Any = None) -> str:
        progress = ""
        if state is not None:
            progress = f", {state.completed + state.failed}/{state.total or len(job.cells)} done"
        return (
            f"Batch {job.batch_id or job.id} ({job.kind}, {len(job.cells)} requests to {job.model}): "
            f"{job.status}{progress}. Collect here once it has ended, or with `protostudio {job.kind} FILE "
            "--batch`."
        )

    def _add_row(self, job: BatchJob) -> None:
        row = QWidget(self)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        label = QLabel()
        label.setWordWrap(True)
        check = QPushButton("Check status")
        collect = QPushButton("Collect")
        collect.setToolTip("Download the answers of an ended batch into this file (as `--batch` does)")
        cancel = QPushButton("Cancel batch")
        check.clicked.connect(lambda _c=False, j=job.id: self.check(j))
        collect.clicked.connect(lambda _c=False, j=job.id: self.collect(j))
        cancel.clicked.connect(lambda _c=False, j=job.id: self.cancel(j))
        line.addWidget(label, 1)
        line.addWidget(check)
        line.addWidget(collect)
        line.addWidget(cancel)
        self._layout.addWidget(row)
        self.rows[job.id] = (label, check, cancel)
        self.collect_buttons[job.id] = collect

    def _job(self, job_id: str) -> BatchJob | None:
        return next((j for j in self.document.proto.batches if j.id == job_id), None)

    def check(self, job_id: str) -> None:
        job = self._job(job_id)
        if job is None or job.batch_id is None:
            return
        from app.engine.batch import batch_api

        target = self.document.proto.model(job.model)
        future = self.services.submit(batch_api(self.services.hub, target).retrieve(target, job.batch_id))
        deliver(
            future, self, lambda state: self._update(job_id, state), lambda exc: self._failed(job_id, exc)
        )

    def collect(self, job_id: str) -> None:
        """Check the batch; once it has ended, bring its answers into the document (off the GUI thread)."""
        job = self._job(job_id)
        if job is None or job.batch_id is None:
            return
        self.collect_buttons[job_id].setEnabled(False)
        copy = self.document.proto.model_copy(deep=True)  # the engine thread never sees the live document
        future = self.services.submit(_collect(self.services.hub, copy, job_id))
        deliver(future, self, lambda outcome: self._collected(job_id, outcome),
                lambda exc: self._failed(job_id, exc))

    def _collected(self, job_id: str, outcome: Any) -> None:
        state, collected, ended = outcome
        job = self._job(job_id)
        if job_id in self.collect_buttons:
            self.collect_buttons[job_id].setEnabled(True)
        if job is None:
            return
        if collected is None and ended.status not in ("collected", "failed"):  # still running
            self._update(job_id, state)
            return
        job.status = ended.status
        job.output_file_id, job.error_file_id = ended.output_file_id, ended.error_file_id
        if collected is not None:
            errors = sum(r.status != "ok" for r in collected.runs)
            text = (f"Batch {job.batch_id} {state.status}: {len(collected.runs) - errors} answers and "
                    f"{errors} errors added to this file.")
            if collected.unanswered:
                text += (f" {collected.unanswered} requests got no answer; run with --batch again to "
                         "send them.")
            for line in collected.skipped:
                text += f" Skipped: {line}."
            self.document.add_runs(collected.runs)
        else:
            text = f"Batch {job.batch_id} failed: {state.errors or 'the provider gave no reason'}."
        self.notice.setText(text)
        self.notice.show()
        self.document.evals_edited()  # the file records the job's new status (and reloads this strip)

    def cancel(self, job_id: str) -> None:
        job = self._job(job_id)
        if job is None or job.batch_id is None:
            return
        from app.engine.batch import batch_api

        self.rows[job_id][2].setEnabled(False)
        target = self.document.proto.model(job.model)
        future = self.services.submit(batch_api(self.services.hub, target).cancel(target, job.batch_id))
        deliver(
            future, self, lambda state: self._update(job_id, state), lambda exc: self._failed(job_id, exc)
        )

    def _update(self, job_id: str, state: Any) -> None:
        job = self._job(job_id)
        if job is None:
            return
        changed = job.status != state.status
        job.status = state.status
        job.output_file_id = state.output_file_id or job.output_file_id
        job.error_file_id = state.error_file_id or job.error_file_id
        if job_id in self.rows:
            self.rows[job_id][0].setText(self.describe(job, state))
        if changed:
            self.document.evals_edited()  # the file records the new status

    def _failed(self, job_id: str, exc: BaseException) -> None:
        if job_id in self.collect_buttons:
            self.collect_buttons[job_id].setEnabled(True)
        if job_id in self.rows:
            label, _check, cancel = self.rows[job_id]
            label.setText(f"{label.text()}\n{getattr(exc, 'message', None) or exc}")
            cancel.setEnabled(True)


async def _collect(hub: Any, proto: Prototype, job_id: str) -> tuple[Any, Any, BatchJob]:
    """On the engine thread: `BatchRunner.collect_if_ended` on the copy; returns the state, what was
    collected (None while running or when failed) and the copy's job (its new status)."""
    from app.engine.batch import BatchRunner

    job = next(j for j in proto.batches if j.id == job_id)
    state, collected = await BatchRunner(hub).collect_if_ended(proto, job)
    return state, collected, job
