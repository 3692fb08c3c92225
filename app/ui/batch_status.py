"""The Evals tab's strip of provider batches still pending in this file (`--batch`): status, Check, Cancel.

A batch runs at the provider for up to 24 h, usually started from the CLI. This strip shows each
pending one, asks the provider for its status on request, and cancels it; both calls run on the
engine thread (`Services`). Collecting the results stays with `protostudio run|eval FILE --batch`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.batch import pending_jobs
from app.core.prototype import BatchJob
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
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        document.sig_changed.connect(self.reload)
        self.reload()

    @Slot()
    def reload(self) -> None:
        jobs = pending_jobs(self.document.proto.batches)
        for job_id in list(self.rows):
            if job_id not in {j.id for j in jobs}:
                label, *_ = self.rows.pop(job_id)
                row = label.parentWidget()
                if row is not None:
                    row.deleteLater()
        for job in jobs:
            if job.id not in self.rows:
                self._add_row(job)
            self.rows[job.id][0].setText(self.describe(job))
        self.setVisible(bool(jobs))

    @staticmethod
    def describe(job: BatchJob, state: Any = None) -> str:
        progress = ""
        if state is not None:
            progress = f", {state.completed + state.failed}/{state.total or len(job.cells)} done"
        return (
            f"Batch {job.batch_id or job.id} ({job.kind}, {len(job.cells)} requests to {job.model}): "
            f"{job.status}{progress}. Collect with `protostudio {job.kind} FILE --batch`."
        )

    def _add_row(self, job: BatchJob) -> None:
        row = QWidget(self)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        label = QLabel()
        label.setWordWrap(True)
        check = QPushButton("Check status")
        cancel = QPushButton("Cancel batch")
        check.clicked.connect(lambda _c=False, j=job.id: self.check(j))
        cancel.clicked.connect(lambda _c=False, j=job.id: self.cancel(j))
        line.addWidget(label, 1)
        line.addWidget(check)
        line.addWidget(cancel)
        self._layout.addWidget(row)
        self.rows[job.id] = (label, check, cancel)

    def _job(self, job_id: str) -> BatchJob | None:
        return next((j for j in self.document.proto.batches if j.id == job_id), None)

    def check(self, job_id: str) -> None:
        job = self._job(job_id)
        if job is None or job.batch_id is None:
            return
        from app.providers.batch import BatchApi

        target = self.document.proto.model(job.model)
        future = self.services.submit(BatchApi(self.services.hub).retrieve(target, job.batch_id))
        deliver(
            future, self, lambda state: self._update(job_id, state), lambda exc: self._failed(job_id, exc)
        )

    def cancel(self, job_id: str) -> None:
        job = self._job(job_id)
        if job is None or job.batch_id is None:
            return
        from app.providers.batch import BatchApi

        self.rows[job_id][2].setEnabled(False)
        target = self.document.proto.model(job.model)
        future = self.services.submit(BatchApi(self.services.hub).cancel(target, job.batch_id))
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
        if job_id in self.rows:
            label, _check, cancel = self.rows[job_id]
            label.setText(f"{label.text()}\n{getattr(exc, 'message', None) or exc}")
            cancel.setEnabled(True)
