"""The title row above an editable list: a label, then add and delete buttons on the right."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton

from app.ui.resources import icon


def list_header(
    title: str, *, on_add: Callable[[], None], on_remove: Callable[[], None], add_tip: str, remove_tip: str
) -> QHBoxLayout:
    """One look and one behaviour for every add/delete list header (case vars, spec rules)."""
    row = QHBoxLayout()
    label = QLabel(title)
    label.setWordWrap(True)  # a long title wraps instead of holding a narrow editor pane wider
    row.addWidget(label, 1)
    for name, tip, slot in (("add", add_tip, on_add), ("delete", remove_tip, on_remove)):
        button = QToolButton()
        button.setIcon(icon(name))
        button.setToolTip(tip)
        button.setAccessibleName(tip)  # icon only: what a screen reader says
        button.clicked.connect(slot)
        row.addWidget(button)
    return row
