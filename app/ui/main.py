"""Start the desktop app: `protostudio` (the bundled example or the last file) or `protostudio FILE.yaml`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

STARTUP_PROBE_ENV = "PROTOSTUDIO_STARTUP_PROBE"
"""Set to 1 to print `first-paint` when the window has painted once, then quit (bench/bench_startup.py)."""

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
    _after_first_paint(window, probe=os.environ.get(STARTUP_PROBE_ENV) == "1")
    window.show()
    return int(app.exec())


def _after_first_paint(window: Any, *, probe: bool) -> None:
    """Once the window has painted: warm up the back end in the background, or, for the start-up
    benchmark, print `first-paint` and quit. Nothing heavy happens before the user sees the window."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                if probe:
                    print("first-paint", flush=True)
                    QTimer.singleShot(0, QApplication.quit)
                else:
                    QTimer.singleShot(0, window.warm_up)
            return False

    window.installEventFilter(FirstPaint(window))
