"""N samples per cell with a "sample 2 of 5" pager and how they vary; a cached answer from a model
that samples offers a new draw; the exact request behind a cell."""

from __future__ import annotations

import itertools
from pathlib import Path

from fakeserver import FakeOpenAI, Reply
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

TIMEOUT = 20_000
KEY = ("c1", "p1", "fake")


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)


def _distinct_answers(fake_server: FakeOpenAI) -> None:
    counter = itertools.count(1)
    fake_server.responder = lambda rec: Reply(text=f"Draw {next(counter)}\n" + "word " * next(counter))


def test_samples_from_the_toolbar_page_and_vary(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    _distinct_answers(fake_server)
    window = make_window(proto_file)
    window.grid.controls.samples.setValue(3)
    window.run_part(["c1"], ["p1"], None, False)
    wait_idle(qtbot, window)
    cell = window.grid.cells[KEY]
    qtbot.waitUntil(cell.pager.isVisible)
    assert cell.pager.label.text() == "sample 1 of 3"
    assert cell.pager.label.toolTip().startswith("3 samples · first lines differ · ")
    first = cell.view.toPlainText()
    cell.setFocus()
    QTest.keyClick(cell, Qt.Key.Key_BracketRight)
    assert cell.pager.label.text() == "sample 2 of 3" and cell.view.toPlainText() != first
    QTest.keyClick(cell, Qt.Key.Key_BracketLeft)
    assert cell.view.toPlainText() == first
    assert len(fake_server.chat_requests()) == 3
    window.close()
    again = make_window(proto_file)
    assert again.grid.controls.samples.value() == 3  # remembered with the layout


def test_one_cell_samples_from_its_menu(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    _distinct_answers(fake_server)
    window = make_window(proto_file)
    cell = window.grid.cells[KEY]
    cell.sig_samples.emit(3)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: cell.pager.label.text() == "sample 1 of 3")
    other = window.grid.cells[("c1", "p2", "fake")]
    assert not other.pager.isVisible() and not other.run


def test_cached_answer_offers_a_new_sample(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    _distinct_answers(fake_server)
    window = make_window(proto_file)
    window.run_part(["c1"], ["p1"], None, False)
    wait_idle(qtbot, window)
    cell = window.grid.cells[KEY]
    assert not cell.new_sample_button.isVisible()
    window.run_part(["c1"], ["p1"], None, False)  # cache on, temperature left to the endpoint
    wait_idle(qtbot, window)
    qtbot.waitUntil(cell.new_sample_button.isVisible)
    before = cell.view.toPlainText()
    cell.new_sample_button.click()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: cell.view.toPlainText() != before and "2 of 2" in cell.status.text(),
                    timeout=TIMEOUT)
    assert len(fake_server.chat_requests()) == 2


def test_exact_request_from_the_cell(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    window.run_part(["c1"], ["p1"], None, False)
    wait_idle(qtbot, window)
    window.grid.cells[KEY].sig_request.emit()
    dialog = window.grid.request_dialog
    qtbot.waitUntil(dialog.isVisible)
    text = dialog.text.toPlainText()
    assert "Cat: Tom." in text and "{{" not in text  # the system prompt's var, filled
    assert fake_server.base_url in text and "Question 1?" in text and "Timings: sent " in text
