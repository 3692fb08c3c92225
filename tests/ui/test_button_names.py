"""Every icon-only button says what it does to a screen reader: its accessible name is its tooltip."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QAbstractButton, QApplication, QTabWidget


def _unnamed(window) -> list[str]:
    found = []
    for button in window.findChildren(QAbstractButton):
        if button.objectName().startswith("qt_"):  # Qt's own (a table's corner button)
            continue
        if button.isVisibleTo(window) and not button.text().strip() and not button.accessibleName().strip():
            found.append(f"{button.objectName() or type(button).__name__}: {button.toolTip()[:40]!r}")
    return found


def test_icon_buttons_have_names_on_every_tab(make_window, proto_file: Path, qtbot) -> None:
    window = make_window(proto_file)
    tabs = window.findChild(QTabWidget)
    assert tabs is not None
    missing: set[str] = set()
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        QApplication.processEvents()  # let the tab lay out before looking
        missing.update(_unnamed(window))
    assert not missing, sorted(missing)


def test_tab_leaves_the_case_vars_table_in_one_press(make_window, proto_file: Path, qtbot) -> None:
    from PySide6.QtCore import Qt

    window = make_window(proto_file)
    window.navigator.select("cases", "c1")
    table = window.editor.case_editor.vars
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: not table.hasFocus())
