"""Status text at real size: a failed cell says why, a waiting cell counts seconds, Esc is counted as
cancelled, and a timeout can be raised from the cell that timed out."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Reply
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.core.document import load_prototype, save_prototype
from app.ui.cell_widget import EMPTY_TEXT

TIMEOUT = 20_000


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)


def test_failed_cell_shows_its_error_not_not_run_yet(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    fake_server.responder = lambda rec: Reply(status=400, message="model does not exist: fake-model")
    window = make_window(proto_file)
    window.run_grid(False)
    wait_idle(qtbot, window)
    cell = window.grid.cells[("c1", "p1", "fake")]
    assert cell.error.isVisible() and "does not exist" in cell.error.text()
    assert cell.view.placeholderText() != EMPTY_TEXT
    assert not cell.timeout_button.isVisible()


def test_waiting_cell_counts_seconds_and_esc_counts_cancelled(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    fake_server.responder = lambda rec: Reply(text="slow " * 50, ttft=1.5, tokens_per_s=5)
    window = make_window(proto_file)
    window.run_grid(False)
    cell = window.grid.cells[("c1", "p1", "fake")]
    qtbot.waitUntil(lambda: "waiting 1 s" in cell.status.text(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "streaming" in cell.status.text(), timeout=TIMEOUT)
    QTest.keyClick(window, Qt.Key.Key_Escape)
    wait_idle(qtbot, window)
    text = window.progress.text()
    assert text.startswith("Last run: ") and "cancelled" in text and " of " not in text


def test_timeout_is_raised_from_the_cell_that_timed_out(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    proto = load_prototype(proto_file)
    proto.model("fake").timeout_s = 0.3
    save_prototype(proto, proto_file)
    fake_server.responder = lambda rec: Reply(text="late", ttft=2.0)
    window = make_window(proto_file)
    window.run_part(["c1"], ["p1"], None, False)
    wait_idle(qtbot, window)
    cell = window.grid.cells[("c1", "p1", "fake")]
    assert "raise the timeout" in cell.error.text()
    qtbot.waitUntil(cell.timeout_button.isVisible)
    cell.timeout_button.click()
    dialog = window.grid.timeout_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.seconds.setValue(30)
    dialog.accept()
    assert window.document.proto.model("fake").timeout_s == 30.0
    assert window.document.dirty
    window.run_part(["c1"], ["p1"], None, True)
    wait_idle(qtbot, window)
    assert "late" in cell.view.toPlainText() and not cell.error.isVisible()
