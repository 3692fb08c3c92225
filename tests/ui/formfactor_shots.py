"""Screenshots of every form-factor preview and a tool-call cell, for docs/ (run under Xvfb):

    Xvfb :93 -screen 0 1600x1000x24 &
    DISPLAY=:93 PYTHONPATH=$PWD:tests/ui python tests/ui/formfactor_shots.py docs/

Opens the real main window on `preview_kit.preview_prototype` and grabs each cell.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.core.document import save_prototype


def main(out: Path) -> None:
    from preview_kit import preview_prototype

    from app.ui.main import create_window

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="ff-shots-"))
    path = folder / "lumen.yaml"
    save_prototype(preview_prototype(folder), path)
    window = create_window([str(path)])
    window.file_ops.ask_unsaved = lambda: "discard"
    window.resize(1560, 900)
    window.show()
    cells = {key[1]: cell for key, cell in window.grid.cells.items()}
    steps: list[Callable[[], None]] = []
    for profile, cell in cells.items():
        steps.append(lambda c=cell, p=profile: c.grab().save(str(out / f"formfactor-{p}.png")))
    canvas = cells["canvas"]
    steps += [
        lambda: canvas.body.chips.chips[0].setChecked(True),
        lambda: canvas.grab().save(str(out / "formfactor-toolcall.png")),
        lambda: canvas.body.chips.chips[0].setChecked(False),
        lambda: window.grab().save(str(out / "formfactor-grid.png")),
        lambda: window.navigator.select("cases", "c1"),
        lambda: window.editor.grab().save(str(out / "formfactor-case-images.png")),
        lambda: [window.selection.set_shown("profiles", p, p == "canvas") for p in cells],
        lambda: window.grid.cells[("c1", "canvas", "fake")].grab().save(
            str(out / "formfactor-canvas-wide.png")
        ),
        app.quit,
    ]

    def run_next() -> None:
        steps.pop(0)()
        if steps:
            QTimer.singleShot(300, run_next)

    QTimer.singleShot(1500, run_next)
    app.exec()
    window.close()
    window.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
