"""The behavior spec as an editable list of rules, each with good and bad example responses."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.prototype import Profile, Rule, new_id
from app.ui.list_header import list_header

EXAMPLE_SEPARATOR = "---"
"""A line holding only this separates example responses in the good/bad boxes."""


def split_examples(text: str) -> list[str]:
    parts: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip() == EXAMPLE_SEPARATOR:
            parts.append([])
        else:
            parts[-1].append(line)
    return [block for block in ("\n".join(p).strip() for p in parts) if block]


def join_examples(examples: list[str]) -> str:
    return f"\n{EXAMPLE_SEPARATOR}\n".join(e.rstrip("\n") for e in examples)


class SpecEditor(QWidget):
    """Rules on top; the selected rule's text and examples below."""

    def __init__(self, on_edit: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_edit = on_edit
        self._profile: Profile | None = None
        self.rules = QListWidget(self)
        self.rules.setObjectName("spec-rules")
        self.rules.setMaximumHeight(110)
        self.rules.setWordWrap(True)
        self.rules.currentRowChanged.connect(self._show_rule)
        head = list_header(
            "Rules the answers should follow:", on_add=self.add_rule, on_remove=self.remove_rule,
            add_tip="Add a rule", remove_tip="Delete the selected rule",
        )
        self.rule_text = QPlainTextEdit(self)
        self.rule_text.setPlaceholderText("The rule, in one sentence.")
        self.good = QPlainTextEdit(self)
        self.good.setPlaceholderText(
            f"Answers that follow the rule. Separate several with a line '{EXAMPLE_SEPARATOR}'."
        )
        self.bad = QPlainTextEdit(self)
        self.bad.setPlaceholderText(
            f"Answers that break it. Separate several with a line '{EXAMPLE_SEPARATOR}'."
        )
        for box in (self.rule_text, self.good, self.bad):
            box.setMaximumHeight(70)
            box.textChanged.connect(self._edited)
        form = QFormLayout()
        form.addRow("Rule", self.rule_text)
        form.addRow("Good", self.good)
        form.addRow("Bad", self.bad)
        self.detail = QWidget(self)
        self.detail.setLayout(form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.rules)
        layout.addWidget(self.detail)

    def set_profile(self, profile: Profile | None) -> None:
        self._profile = profile
        with QSignalBlocker(self.rules):
            self.rules.clear()
            for rule in profile.behavior_spec if profile else []:
                self.rules.addItem(QListWidgetItem(rule.rule or rule.id))
        self.rules.setCurrentRow(0 if self.rules.count() else -1)
        self._show_rule(self.rules.currentRow())

    def _current(self) -> Rule | None:
        row = self.rules.currentRow()
        if self._profile is None or not 0 <= row < len(self._profile.behavior_spec):
            return None
        return self._profile.behavior_spec[row]

    def _show_rule(self, _row: int) -> None:
        rule = self._current()
        self.detail.setEnabled(rule is not None)
        for box, text in (
            (self.rule_text, rule.rule if rule else ""),
            (self.good, join_examples(rule.good) if rule else ""),
            (self.bad, join_examples(rule.bad) if rule else ""),
        ):
            with QSignalBlocker(box):
                box.setPlainText(text)

    def _edited(self) -> None:
        rule = self._current()
        if rule is None:
            return
        text, good, bad = (self.rule_text.toPlainText(), split_examples(self.good.toPlainText()),
                           split_examples(self.bad.toPlainText()))
        if (text, good, bad) == (rule.rule, rule.good, rule.bad):
            return
        rule.rule, rule.good, rule.bad = text, good, bad
        item = self.rules.currentItem()
        if item is not None:
            item.setText(rule.rule or rule.id)
        self._on_edit()

    def add_rule(self) -> None:
        if self._profile is None:
            return
        self._profile.behavior_spec.append(Rule(id=new_id("rule"), rule="New rule"))
        self.set_profile(self._profile)
        self.rules.setCurrentRow(self.rules.count() - 1)
        self.rule_text.setFocus(Qt.FocusReason.OtherFocusReason)
        self.rule_text.selectAll()
        self._on_edit()

    def remove_rule(self) -> None:
        row = self.rules.currentRow()
        if self._profile is None or row < 0:
            return
        del self._profile.behavior_spec[row]
        self.set_profile(self._profile)
        self._on_edit()
