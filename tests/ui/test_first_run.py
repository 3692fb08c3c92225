"""The first-run path, for real: `protostudio` opens the cat example; Ctrl+Enter streams the local model."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


@pytest.mark.integration
def test_first_run_streams_the_bundled_model_side_by_side(qtbot, make_window) -> None:
    window = make_window(None, fake_only=False)  # no argument: the bundled example, local model preselected
    proto = window.document.proto
    assert window.document.path is not None and window.document.path.name == "cat-persona.yaml"
    assert window.bar.text() == ""  # no dialog, no message in the way
    first_case = proto.cases[0].id
    row = [cell for key, cell in window.grid.cells.items() if key[0] == first_case]
    assert len(row) >= 4 and {cell.key[2] for cell in row} == {"local"}

    QTest.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(cell.view.toPlainText().strip() for cell in row), timeout=180_000)
    qtbot.waitUntil(lambda: all(cell.run is not None and not cell.streaming for cell in row), timeout=240_000)
    QTest.keyClick(window, Qt.Key.Key_Escape)  # the other rows need not finish
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=60_000)
    for cell in row:
        assert cell.run.status == "ok", cell.run.error
        assert cell.run.output.strip() and cell.view.toPlainText().strip()
        assert "live" in cell.status.text() or "cached" in cell.status.text()
    assert len({cell.run.messages[0].content for cell in row}) == len(row)  # each profile its own prompt
