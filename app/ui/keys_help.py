"""F1: every key the window answers to, read from the definitions themselves, so the list can't
drift from what the keys do: the window's actions (menus, toolbar), the shortcuts that carry a
`whatsThis` (A/B's 1-4, the grid's U), the compare cell's key table and the navigator's.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

AREA_PROPERTY = "keysArea"
"""Set on a QShortcut (with `whatsThis`) to list it under that heading in F1."""


@dataclass(frozen=True)
class KeyHelp:
    area: str
    keys: str
    what: str


def _native(sequence: QKeySequence) -> str:
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)


def collect_keys(window: QWidget) -> list[KeyHelp]:
    """Every key, grouped by where it works, in a stable order."""
    from app.ui.cell_widget import CELL_KEYS
    from app.ui.navigator import NAVIGATOR_KEYS

    found: list[KeyHelp] = []
    seen: set[tuple[str, str]] = set()
    for action in window.findChildren(QAction):
        keys = [_native(s) for s in action.shortcuts() if not s.isEmpty()]
        if not keys:
            continue
        what = action.text().replace("&", "").rstrip("…")
        tip = action.toolTip().split(" (")[0]
        if tip and tip != what:
            what = f"{what}: {tip}"
        entry = KeyHelp("Everywhere", " / ".join(dict.fromkeys(keys)), what)
        if (entry.keys, entry.area) not in seen:
            seen.add((entry.keys, entry.area))
            found.append(entry)
    for shown, what, _keys, _method, _args in CELL_KEYS:
        if shown:
            found.append(KeyHelp("Grid (the framed cell)", shown, what))
    for shortcut in window.findChildren(QShortcut):
        if shortcut.whatsThis():
            area = str(shortcut.property(AREA_PROPERTY) or "Everywhere")
            found.append(KeyHelp(area, _native(shortcut.key()), shortcut.whatsThis()))
    for shown, what, _key in NAVIGATOR_KEYS:
        found.append(KeyHelp("Left list", shown, what))
    order = {"Everywhere": 0, "Grid (the framed cell)": 1, "Grid": 2, "Compare A/B": 3, "Left list": 4}
    return sorted(found, key=lambda k: order.get(k.area, 9))


def keys_html(entries: list[KeyHelp]) -> str:
    parts = ["<h3>Keyboard</h3>"]
    area = None
    for entry in entries:
        if entry.area != area:
            if area is not None:
                parts.append("</table>")
            area = entry.area
            parts.append(f"<h4>{html.escape(area)}</h4><table cellpadding=3>")
        parts.append(
            f"<tr><td width=150><b>{html.escape(entry.keys)}</b></td><td>{html.escape(entry.what)}</td></tr>"
        )
    if area is not None:
        parts.append("</table>")
    return "".join(parts)


class KeysDialog(QDialog):
    """A scrollable list (it outgrew a message box)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("keys-help")
        self.entries = collect_keys(window)
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.setHtml(keys_html(self.entries))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(620, 560)
