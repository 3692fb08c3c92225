"""Show untrusted text (model output, server errors, file content) as literal text, never as HTML.

Qt guesses whether a label's text or any tooltip is rich text (`Qt::mightBeRichText`), so an answer
containing `<img src="file:///...">` would make Qt load a local file. Labels get `Qt.PlainText`;
tooltips, which have no format switch, get their text escaped inside an explicit rich-text wrapper.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def plain_tip(text: str) -> str:
    """A tooltip string that Qt shows as exactly `text` (tags escaped, line breaks kept)."""
    if not text:
        return ""
    return "<p style='white-space:pre-wrap'>" + html.escape(text) + "</p>"


def plain_label(text: str = "") -> QLabel:
    """A QLabel that never interprets its text as HTML."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label
