"""Start the desktop app (replaced by the full main window in the UI issue)."""

from __future__ import annotations

import sys


def launch(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    label = QLabel("Protostudio")
    label.resize(640, 400)
    label.show()
    return int(app.exec())
