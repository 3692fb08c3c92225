"""Tool-call chips: one compact `open_canvas(title="…")` per call the thread made, whatever the
form factor; a click expands a chip to its arguments JSON and the mock result the app sent back."""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from app.core import jsontext
from app.core.prototype import ToolCall

CHIP_VALUE_CHARS = 12
"""Characters of the first argument's value a chip shows before "…"."""
MAX_CHIPS = 4
"""Chips shown in a row; more calls collapse into a "+N" chip that expands to the full list."""
CHIP_STYLE = (
    "QToolButton { border: 1px solid #b7c4d6; border-radius: 8px; padding: 0 6px; background: #eef3fa;"
    " color: #24426b; font-family: monospace; font-size: 8pt; }"
    " QToolButton:checked { background: #d4e2f5; border-color: #24426b; }"
)


def chip_text(call: ToolCall) -> str:
    """`name(key="value…")`: the call's name and its first argument, shortened (the rest: expand)."""
    try:
        arguments = jsontext.loads(call.arguments) if call.arguments else {}
    except ValueError:
        return f"{call.name}(⚠ invalid JSON)"
    if not isinstance(arguments, dict) or not arguments:
        return f"{call.name}()"
    key, value = next(iter(arguments.items()))
    shown = " ".join((value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)).split())
    if len(shown) > CHIP_VALUE_CHARS:
        shown = shown[: CHIP_VALUE_CHARS - 1] + "…"
    quoted = f'"{shown}"' if isinstance(value, str) else shown
    return f"{call.name}({key}={quoted})"


def call_details(call: ToolCall) -> str:
    """The call written out: name and id, arguments as indented JSON (as written when invalid), result."""
    try:
        parsed = jsontext.loads(call.arguments) if call.arguments else {}
        arguments = json.dumps(parsed, indent=2, ensure_ascii=False)
    except ValueError:
        arguments = f"{call.arguments}\n(not valid JSON, shown as the model wrote it)"
    result = call.result if call.result is not None else "(no result recorded)"
    ident = f"  [{call.id}]" if call.id else ""
    return f"{call.name}{ident}\narguments:\n{arguments}\nresult:\n{result}"


class ToolChips(QWidget):
    """A row of chips; checking one shows its details below (one at a time)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tool-chips")
        self.calls: list[ToolCall] = []
        self.chips: list[QToolButton] = []
        self.row = QHBoxLayout()
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(3)
        self.details = QPlainTextEdit(self)
        self.details.setObjectName("tool-details")
        self.details.setReadOnly(True)
        self.details.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.details.setMaximumHeight(110)
        self.details.setStyleSheet("font-family: monospace; font-size: 8pt;")
        self.details.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self.row)
        layout.addWidget(self.details)

    def show_calls(self, calls: Sequence[ToolCall]) -> None:
        self.calls = list(calls)
        for chip in self.chips:
            self.row.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        while self.row.count():
            self.row.takeAt(0)
        shown = self.calls[:MAX_CHIPS] if len(self.calls) <= MAX_CHIPS else self.calls[: MAX_CHIPS - 1]
        for index, call in enumerate(shown):
            self._add_chip(chip_text(call), f"Show the arguments and result of {call.name}", [index])
        if len(shown) < len(self.calls):
            rest = list(range(len(shown), len(self.calls)))
            self._add_chip(f"+{len(rest)}", f"{len(rest)} more tool calls", rest)
        self.row.addStretch(1)
        self.details.hide()
        self.setVisible(bool(self.calls))

    def _add_chip(self, text: str, tip: str, indexes: list[int]) -> None:
        chip = QToolButton(self)
        chip.setObjectName("tool-chip")
        chip.setText(text)
        chip.setToolTip(tip)
        chip.setCheckable(True)
        chip.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        chip.setStyleSheet(CHIP_STYLE)
        chip.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        chip.setMinimumWidth(40)  # a narrow cell squeezes chips rather than widening the cell
        chip.toggled.connect(lambda on, c=chip, i=indexes: self._expand(c, i, on))
        self.chips.append(chip)
        self.row.addWidget(chip)

    def _expand(self, chip: QToolButton, indexes: list[int], on: bool) -> None:
        if not on:
            if not any(c.isChecked() for c in self.chips):
                self.details.hide()
            return
        for other in self.chips:
            if other is not chip and other.isChecked():
                other.blockSignals(True)
                other.setChecked(False)
                other.blockSignals(False)
        self.details.setPlainText("\n\n".join(call_details(self.calls[i]) for i in indexes))
        self.details.show()
