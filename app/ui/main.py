"""Start the desktop app: `protostudio` (the bundled example or the last file) or `protostudio FILE.yaml`."""

from __future__ import annotations

import sys
from pathlib import Path

SWITCH_INTERVAL_S = 0.001
"""How long a thread may hold the GIL before another is let in (Python's default is 5 ms).

The engine thread parses streamed chunks in Python; a shorter interval lets the GUI thread in
sooner, which keeps repaints and keystrokes prompt while many cells stream (see bench/bench_ui.py).
"""


def tune_interpreter() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def start_file(argv: list[str]) -> Path | None:
    """The file to open: the argument, else the last opened file, else the bundled cat-persona example."""
    from app.ui.resources import example_prototype
    from app.ui.ui_state import UiState

    if argv:
        return Path(argv[0]).expanduser()
    return UiState().last_file() or example_prototype()


def create_window(argv: list[str]):
    """Build the main window for these arguments, without running the event loop (tests use this)."""
    from app.ui.main_window import MainWindow

    window = MainWindow()
    path = start_file(argv)
    if path is not None:
        window.file_ops.open_sync(path)
    window.file_ops.offer_recovery()
    proto = window.document.proto
    if proto.profiles:  # show a prompt beside the grid, so the screen explains itself
        window.navigator.select("profiles", proto.profiles[0].id)
    window.grid.focus_first_cell()
    return window


def launch(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Protostudio")
    app.setOrganizationName("Protostudio")
    tune_interpreter()
    args = [a for a in argv if not a.startswith("-")]
    window = create_window(args)
    window.show()
    return int(app.exec())
