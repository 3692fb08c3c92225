"""Teams in the GUI: who you rate as, each cell's split, a rater filter, and "Next unrated" (U)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.core.document import load_prototype, save_prototype
from app.core.prototype import Rating, Run
from app.core.rater import current_rater, load_identity
from app.core.ratings import rating_of

TIMEOUT = 20_000


@pytest.fixture
def rated_file(proto_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every cell has an answer; bo rated two of them, ana (you) rated the first."""
    monkeypatch.setenv("PROTOSTUDIO_RATER", "ana")
    proto = load_prototype(proto_file)
    for case in ("c1", "c2"):
        for profile in ("p1", "p2"):
            proto.runs.append(Run(id=f"r-{case}-{profile}", created="2026-01-01T00:00:00Z", profile=profile,
                                  model="fake", case=case, output=f"answer {case} {profile}"))
    proto.run("r-c1-p1").ratings = [Rating(rater="ana", thumb="up"), Rating(rater="bo", thumb="down")]
    proto.run("r-c2-p2").ratings = [Rating(rater="bo", thumb="up", note="nice")]
    save_prototype(proto, proto_file)
    return proto_file


def test_next_unrated_jumps_to_your_next_unrated_answer(qtbot, make_window, rated_file: Path) -> None:
    window = make_window(rated_file)
    grid = window.grid
    assert window.document.rater == "ana"
    assert grid.team_bar.you.text() == "You rate as ana"
    first = grid.cells[("c1", "p1", "fake")]
    first.setFocus()
    qtbot.waitUntil(first.hasFocus, timeout=TIMEOUT)
    QTest.keyClick(first, Qt.Key.Key_U)
    second = grid.cells[("c1", "p2", "fake")]
    assert second.hasFocus()  # c1/p1 is rated by ana; bo's ratings do not count as yours
    QTest.keyClick(second, Qt.Key.Key_Minus)
    QTest.keyClick(second, Qt.Key.Key_U)
    assert grid.cells[("c2", "p1", "fake")].hasFocus()
    QTest.keyClick(grid.cells[("c2", "p1", "fake")], Qt.Key.Key_Plus)
    qtbot.mouseClick(grid.team_bar.next_button, Qt.MouseButton.LeftButton)
    last = grid.cells[("c2", "p2", "fake")]
    assert last.run is not None and rating_of(last.run, "bo").thumb == "up"  # bo rated it, you did not
    QTest.keyClick(last, Qt.Key.Key_Plus)
    assert rating_of(last.run, "ana").thumb == "up" and rating_of(last.run, "bo").note == "nice"
    messages: list[str] = []
    grid.sig_message.connect(messages.append)
    grid.team_bar.go_next_unrated()
    assert messages == ["You have rated every answer in the grid."]


def test_u_in_a_note_types_a_letter(qtbot, make_window, rated_file: Path) -> None:
    window = make_window(rated_file)
    cell = window.grid.cells[("c1", "p2", "fake")]
    cell.setFocus()
    QTest.keyClick(cell, Qt.Key.Key_N)
    QTest.keyClicks(cell.note, "uuu")
    assert cell.note.text() == "uuu" and cell.note.hasFocus()


def test_cells_show_the_split_and_the_filter_shows_one_rater_read_only(
    qtbot, make_window, rated_file: Path
) -> None:
    window = make_window(rated_file)
    bar, cell = window.grid.team_bar, window.grid.cells[("c1", "p1", "fake")]
    assert cell.split.text() == "2 rated: 1 up, 1 down"
    assert cell.up.isChecked() and cell.up.isEnabled()
    assert [bar.filter.itemData(i) for i in range(bar.filter.count())] == [None, "bo"]
    bar.filter.setCurrentIndex(1)
    assert cell.down.isChecked() and not cell.up.isChecked() and not cell.up.isEnabled()
    other = window.grid.cells[("c2", "p2", "fake")]
    assert other.note.text() == "nice" and not other.note.isEnabled()
    QTest.keyClick(cell, Qt.Key.Key_Plus)  # read-only: nothing changes
    assert cell.run is not None and rating_of(cell.run, "bo").thumb == "down"
    bar.filter.setCurrentIndex(0)
    assert cell.up.isChecked() and cell.up.isEnabled()


def test_settings_name_becomes_the_rater_of_new_ratings(
    qtbot, make_window, rated_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui.rater_settings import RaterTab

    monkeypatch.delenv("PROTOSTUDIO_RATER")
    window = make_window(rated_file)
    tab = RaterTab()
    qtbot.addWidget(tab)
    tab.sig_rater_changed.connect(window.document.set_rater)
    tab.name.setText("Cleo")
    tab.email.setText("cleo@example.com")
    qtbot.mouseClick(tab.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.saving, timeout=TIMEOUT)
    assert load_identity().rater == current_rater() == "Cleo <cleo@example.com>"
    assert window.document.rater == "Cleo <cleo@example.com>"
    assert window.grid.team_bar.you.text() == "You rate as Cleo <cleo@example.com>"
    cell = window.grid.cells[("c1", "p2", "fake")]
    cell.setFocus()
    QTest.keyClick(cell, Qt.Key.Key_Plus)
    assert cell.run is not None and rating_of(cell.run, "Cleo <cleo@example.com>").thumb == "up"
