"""Review seeded proposals: every one is listed with where it came from; only checked ones are added."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.evals.assertions import describe
from app.core.seeding import DEFAULT_TARGET, Proposal
from app.ui.plain import plain_tip


class ProposalsDialog(QDialog):
    """Check the proposals to accept. `accepted_proposals()` is read after the dialog is accepted."""

    def __init__(
        self, proposals: list[Proposal], parent: QWidget | None = None, support: list[str] | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Proposed assertions")
        self.proposals = proposals
        self.list = QListWidget()
        for index, proposal in enumerate(proposals):
            where = "every case" if proposal.target == DEFAULT_TARGET else f"case {proposal.target}"
            team = support[index] if support else ""
            team = f"\n    team: {team}" if team else ""
            text = f"{describe(proposal.assertion, 70)}\n    for {where} · {proposal.origin}{team}"
            item = QListWidgetItem(text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setToolTip(plain_tip(str(proposal.assertion.value)))  # often a rated answer
            self.list.addItem(item)
        intro = QLabel(
            "From your ratings and behavior specs: thumbs-up answers become references (similar), "
            "thumbs-down answers negative references (not-similar), notes on a thumbs-down draft rubrics, "
            "spec rules rubrics for every case. Check the ones to add; rubric drafts are meant to be "
            "edited afterwards."
        )
        intro.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.add_button = buttons.addButton("Add checked", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        check_all = QPushButton("Check all")
        check_all.clicked.connect(lambda: self.set_all(True))
        buttons.addButton(check_all, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def set_all(self, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        for row in range(self.list.count()):
            self.list.item(row).setCheckState(state)

    def set_checked(self, row: int, checked: bool) -> None:
        self.list.item(row).setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def accepted_proposals(self) -> list[Proposal]:
        return [
            p
            for row, p in enumerate(self.proposals)
            if self.list.item(row).checkState() == Qt.CheckState.Checked
        ]
