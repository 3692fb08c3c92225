"""Fixtures for driving the real main window with qtbot: a prototype aimed at the fake server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI
from ui_prototypes import fake_prototype

from app.core.document import save_prototype

WindowFactory = Callable[..., "MainWindow"]  # noqa: F821 (imported lazily: Qt)


@pytest.fixture
def proto_file(tmp_path: Path, fake_server: FakeOpenAI) -> Path:
    path = tmp_path / "ui-test.yaml"
    save_prototype(fake_prototype(fake_server.base_url), path)
    return path


@pytest.fixture
def make_window(qtbot) -> Iterator[WindowFactory]:
    """Open the real window on a file (as `protostudio FILE` does); close it and its threads afterwards."""
    from PySide6.QtWidgets import QApplication

    from app.ui.main import create_window

    windows = []

    def make(path: Path | None = None, *, fake_only: bool = True):
        window = create_window([str(path)] if path else [])
        window.file_ops.ask_unsaved = lambda: "discard"  # a modal question would hang the test run
        if fake_only and any(m.id == "fake" for m in window.document.proto.models):
            window.selection.set_shown("models", "fake", True)
            for model in window.document.proto.models:
                if model.id != "fake":
                    window.selection.set_shown("models", model.id, False)
        window.show()
        window.activateWindow()  # keyboard shortcuts only reach the active window
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.file_ops.ask_unsaved = lambda: "discard"
        window.close()
        window.deleteLater()
        window.shutdown()
