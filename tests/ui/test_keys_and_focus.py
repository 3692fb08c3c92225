"""The cell the keys act on is visibly framed, and F1 lists every key from the definitions themselves."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtTest import QTest

from app.ui.cell_widget import FOCUS_COLOR


def _edge_color(cell) -> QColor:
    image = cell.grab().toImage()
    return QColor(image.pixel(image.width() // 2, 0))


def test_focused_cell_wears_the_focus_frame(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    first, second = window.grid.cells_in_order()[:2]
    window.grid.focus_first_cell()
    qtbot.waitUntil(first.hasFocus)
    assert _edge_color(first) == QColor(FOCUS_COLOR)
    assert _edge_color(second) != QColor(FOCUS_COLOR)
    QTest.keyClick(first, Qt.Key.Key_Right)
    qtbot.waitUntil(second.hasFocus)
    assert _edge_color(second) == QColor(FOCUS_COLOR)
    assert _edge_color(first) != QColor(FOCUS_COLOR)


def test_f1_lists_every_key_from_the_definitions(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    window.act_keys.trigger()
    dialog = window.keys_dialog
    qtbot.waitUntil(dialog.isVisible)
    listed = {(e.area, e.keys) for e in dialog.entries}
    text = dialog.text.toPlainText()
    for action in (window.act_run, window.act_stop, window.act_save, window.act_keys):
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert shown in text
    for vote in ("1", "2", "3", "4"):
        assert ("Compare A/B", vote) in listed
    assert ("Grid", "U") in listed
    assert any(keys == "+" for area, keys in listed if area.startswith("Grid"))
    assert "Rename" in text and "Both bad" in text
    # a new action with a key shows up with no edit to the help
    window._action("Do a new thing", lambda: None, "Ctrl+Alt+J")
    window.act_keys.trigger()
    qtbot.waitUntil(lambda: "Do a new thing" in window.keys_dialog.text.toPlainText())
