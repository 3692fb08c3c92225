"""`{{var}}` highlighting for prompt editors, so a designer sees which parts a case fills in."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from app.core.placeholders import VAR_RE


class VarHighlighter(QSyntaxHighlighter):
    """Colours every `{{name}}` placeholder; unknown names (not in `known`) are underlined in red."""

    def __init__(self, document: QTextDocument, known: set[str] | None = None) -> None:
        super().__init__(document)
        self.known = known
        self._format = QTextCharFormat()
        self._format.setForeground(QColor("#1f6fd1"))
        self._format.setFontWeight(QFont.Weight.Bold)
        self._unknown = QTextCharFormat(self._format)
        self._unknown.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self._unknown.setUnderlineColor(QColor("#d0453a"))

    def set_known(self, known: set[str] | None) -> None:
        self.known = known
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        for match in VAR_RE.finditer(text):
            unknown = self.known is not None and match.group(1) not in self.known
            self.setFormat(
                match.start(), match.end() - match.start(), self._unknown if unknown else self._format
            )
