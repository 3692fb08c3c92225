"""What a new user tripped over in a walk-through at real size (4 profiles x 3 models x 5 cases)."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Reply

from app.core.document import load_prototype, save_prototype
from app.core.prototype import Profile


def _with_profiles(path: Path, count: int) -> Path:
    proto = load_prototype(path)
    proto.profiles = [Profile(id=f"p{n}", name=f"Profile {n}", system_prompt="Be a cat.")
                      for n in range(count)]
    save_prototype(proto, path)
    return path


def test_four_profiles_fit_the_default_window_without_scrolling(
    qtbot, make_window, proto_file: Path
) -> None:
    """The cat example has 4 profiles: at the first start's window size all 4 columns are on screen."""
    window = make_window(_with_profiles(proto_file, 4))
    window.resize(1500, 920)  # a fresh start's size (the offscreen test screen is smaller)
    grid = window.grid
    assert len(grid._headers) == 4
    bar = grid.scroll_area.horizontalScrollBar()
    cell = next(iter(grid.cells.values()))
    room = grid.scroll_area.viewport()
    qtbot.waitUntil(lambda: bar.maximum() == 0 and cell.width() * 4 >= room.width() - 60)


def test_status_bar_counts_from_the_start_of_a_run(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    """The engine's first count arrives when a cell ends; before that the bar said nothing at all."""
    from app.ui.main_window import STATUS_HINT

    fake_server.default = Reply(text="Meow.", ttft=1.5)  # time to read the bar before the first answer
    window = make_window(_with_profiles(proto_file, 4))
    assert STATUS_HINT in window.statusBar().currentMessage() and window.progress.text() == ""
    window.run_grid(False)
    qtbot.waitUntil(lambda: window.progress.text() == "Running: 0 of 8 done")
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=30_000)
    assert window.progress.text().startswith("Last run: 8 done")
    assert window.progress.text().endswith("cost ?")  # the fake model has no price: say what "?" means
    assert "Settings › Prices" in window.progress.toolTip()


def test_a_new_files_single_cell_sits_under_its_header(qtbot, make_window) -> None:
    """File › New has one cell: the spare height went into tall gaps between title, header and cell."""
    window = make_window(None, fake_only=False)
    window.resize(1500, 920)
    window.file_ops.new()
    grid = window.grid
    qtbot.waitUntil(lambda: len(grid.cells) == 1 and grid.canvas.height() > 600)
    cell = next(iter(grid.cells.values()))
    header = grid._headers[0]
    qtbot.waitUntil(cell.isVisible)
    assert cell.y() - header.y() < 80  # the header's two lines, not a label stretched to 141 px
    assert header.y() - grid._group_labels[0].y() < 50


def test_clicking_the_highlighted_row_of_a_new_file_opens_it(qtbot, make_window) -> None:
    """After File › New the first profile is highlighted but the editor shows its hint; clicking
    that row did nothing (only a different row opened an editor)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window = make_window(None, fake_only=False)
    window.file_ops.new()
    section = window.navigator.sections["profiles"]
    qtbot.waitUntil(lambda: section.list.count() == 1)
    row = section.list.item(0)
    assert section.list.currentItem() is row and window.editor.currentIndex() == 0
    rect = section.list.visualItemRect(row)
    QTest.mouseClick(section.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.editor.currentIndex() == 1)
    assert window.editor.item_id == row.data(Qt.ItemDataRole.UserRole)


def test_the_profile_and_model_editors_fit_the_default_editor_pane(qtbot, make_window) -> None:
    """The pane is 300 px on a first start: nothing in these editors may need more (it was cut off)."""
    window = make_window(None, fake_only=False)
    window.resize(1500, 920)
    proto = window.document.proto
    for kind, editor in (("profiles", window.editor.profile_editor), ("models", window.editor.model_editor)):
        window.navigator.select(kind, getattr(proto, kind)[0].id)
        qtbot.waitUntil(editor.isVisible)
        scroll = editor.parentWidget().parentWidget()  # editor -> viewport -> scroll area
        assert editor.minimumSizeHint().width() <= scroll.viewport().width(), kind
        assert scroll.horizontalScrollBar().maximum() == 0, kind


def test_why_checks_failed_says_no_run_yet_before_the_first_eval_run(qtbot) -> None:
    """Before any eval run the reasons table said "No failed checks" and "0 failed": read as all passed."""
    from app.core.prototype import AssertionResult, EvalResult, EvalRun, Prototype
    from app.ui.evals_reasons import NO_FAILURES_HINT, NO_RUN_HINT, ReasonsTable

    table = ReasonsTable()
    qtbot.addWidget(table)
    proto = Prototype(name="x")
    table.show_run(proto, None)
    assert table.table.empty_hint == NO_RUN_HINT and table.count.text() == ""
    passed = EvalRun(id="e1", created="2026-11-30", pass_rate=1.0, results=[
        EvalResult(case="c1", profile="p", model="m", passed=True, score=1.0,
                   assertions=[AssertionResult(type="contains", passed=True, score=1.0, reason="ok")])])
    table.show_run(proto, passed)
    assert table.table.empty_hint == NO_FAILURES_HINT and table.count.text() == "0 failed"


def test_settings_says_where_keys_go_when_there_is_no_keyring(qtbot, make_window, proto_file: Path) -> None:
    """With no OS keyring the warning said "memory only" and the note under it "your system keyring"."""
    import keyring
    import keyring.backends.fail

    from app.ui.settings_dialog import SettingsDialog

    window = make_window(proto_file)
    dialog = SettingsDialog(window.services, window.document.proto, window)
    qtbot.addWidget(dialog)
    assert "system keyring" in dialog.providers.key_note.text()  # the test keyring works
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        dialog = SettingsDialog(window.services, window.document.proto, window)
        qtbot.addWidget(dialog)
        note = dialog.providers.key_note.text()
        assert "in memory until you quit" in note and "system keyring" not in note
    finally:
        keyring.set_keyring(previous)


def test_file_menu_opens_a_bundled_example(qtbot, make_window, proto_file: Path) -> None:
    """From any file, File › Open example lists the bundled prototypes and opens one as a template."""
    from app.ui.resources import examples_dir, is_example

    window = make_window(proto_file)
    actions = {a.text(): a for a in window.examples_menu.actions()}
    assert len(actions) == len(list(examples_dir().glob("*.yaml"))) >= 2
    actions["Cat persona"].trigger()
    qtbot.waitUntil(lambda: getattr(window.document.path, "name", "") == "cat-persona.yaml")
    assert is_example(window.document.path) and "Example" in window.windowTitle()


def test_a_1280_window_keeps_the_editor_pane(qtbot, make_window, proto_file: Path) -> None:
    """The Evals tab's one-row bar (920 px) was every tab's minimum: at 1280 x 800 the editor pane
    was squeezed to 180 px, cutting the profile and model editors off."""
    window = make_window(proto_file)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    assert window.extra["Evals"].minimumSizeHint().width() < 700
    qtbot.waitUntil(lambda: window.splitter.sizes()[1] >= 290)


def test_the_key_hint_comes_back_after_a_passing_message(qtbot, make_window, proto_file: Path) -> None:
    from app.ui.main_window import STATUS_HINT

    window = make_window(proto_file)
    bar = window.statusBar()
    assert bar.currentMessage() == STATUS_HINT
    bar.showMessage("Copied.", 100)
    assert bar.currentMessage() == "Copied."
    qtbot.waitUntil(lambda: bar.currentMessage() == STATUS_HINT)


def test_a_failed_cells_status_line_is_short() -> None:
    """A cell that got nothing back read "Team gateway · live · ? tok · 0.0 s · cost ?"."""
    from app.core.prototype import Run, Usage
    from app.ui.cell_widget import status_line

    failed = Run(id="r", created="2026-11-30T00:00:00Z", case="c", profile="p", model="m", status="error",
                 error="Could not reach it", latency_ms=3)
    assert status_line(failed, "Team gateway") == "Team gateway · failed"
    answered = failed.model_copy(update={"status": "ok", "error": None, "output": "Meow",
                                         "usage": Usage(completion_tokens=2)})
    assert status_line(answered, "Team gateway").startswith("Team gateway · live · 2 tok")
