"""Drive the real main window against the fake OpenAI server: run, stream, rate, continue, stop, save."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Reply
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPushButton

from app.core.document import load_prototype
from app.ui.resources import example_prototype

TIMEOUT = 20_000


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)


def cell_text(window, key) -> str:
    return window.grid.cells[key].view.toPlainText()


def test_open_the_bundled_example(make_window) -> None:
    path = example_prototype()
    assert path is not None
    window = make_window(path, fake_only=False)
    proto = window.document.proto
    assert window.document.path == path
    assert "Cat persona" in window.windowTitle()
    local = [m.id for m in proto.models if m.provider == "local"]
    # the local model is preselected: one column per profile, one row per case
    assert window.selection.shown(proto, "models") == local
    assert len(window.grid.cells) == len(proto.profiles) * len(local) * len(proto.cases)
    assert window.navigator.sections["profiles"].list.count() == len(proto.profiles)
    assert window.bar.text() == ""
    assert not window.document.dirty and not window.isWindowModified()


def test_run_streams_text_into_cells(qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI) -> None:
    fake_server.default = Reply(text="Purr. " * 40, tokens_per_s=80)
    window = make_window(proto_file)
    assert len(window.grid.cells) == 4  # 2 profiles x fake model x 2 cases
    QTest.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    key = ("c1", "p1", "fake")
    qtbot.waitUntil(lambda: "Purr." in cell_text(window, key), timeout=TIMEOUT)
    assert window.controller.busy  # text arrived while the answers were still streaming
    wait_idle(qtbot, window)
    for cell_key, cell in window.grid.cells.items():
        assert cell.view.toPlainText().count("Purr.") == 40, cell_key
        assert "live" in cell.status.text() and "tok" in cell.status.text()
        assert cell.up.isEnabled()
    assert len(window.document.proto.runs) == 4
    assert window.isWindowModified()
    systems = {r.messages[0]["content"] for r in fake_server.chat_requests()}
    assert systems == {"You are variant 1. Cat: Tom.", "You are variant 2. Cat: Tom."}


def test_failing_cell_shows_error_and_partial_text(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    def respond(rec):
        if "variant 2" in rec.messages[0]["content"]:
            return Reply(text="Half an answer that never ends", fault="cut", cut_after=3)
        return Reply(text="Fine answer.")

    fake_server.responder = respond
    window = make_window(proto_file)
    window.run_grid(False)
    wait_idle(qtbot, window)
    broken = window.grid.cells[("c1", "p2", "fake")]
    assert broken.error.isVisible()
    assert "Half an" in broken.view.toPlainText()
    assert "kept" in broken.error.text()
    fine = window.grid.cells[("c1", "p1", "fake")]
    assert not fine.error.isVisible() and "Fine answer." in fine.view.toPlainText()


def test_thumb_note_and_tag_a_cell_by_keyboard(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    window.run_grid(False)
    wait_idle(qtbot, window)
    first = window.grid.cells[("c1", "p1", "fake")]
    first.setFocus()
    QTest.keyClick(first, Qt.Key.Key_Right)
    cell = window.grid.cells[("c1", "p2", "fake")]
    assert cell.hasFocus()
    QTest.keyClick(cell, Qt.Key.Key_Plus)
    QTest.keyClick(cell, Qt.Key.Key_N)
    assert cell.note.hasFocus()
    QTest.keyClicks(cell.note, "too polite")
    QTest.keyClick(cell.note, Qt.Key.Key_Return)
    assert cell.hasFocus()
    QTest.keyClick(cell, Qt.Key.Key_T)
    QTest.keyClicks(cell.tags, "tone, short")
    QTest.keyClick(cell.tags, Qt.Key.Key_Return)
    rating = window.document.proto.run(cell.run.id).rating
    assert (rating.thumb, rating.note, rating.tags) == ("up", "too polite", ["tone", "short"])
    QTest.keyClick(cell, Qt.Key.Key_Minus)
    assert window.document.proto.run(cell.run.id).rating.thumb == "down"
    qtbot.mouseClick(cell.down, Qt.MouseButton.LeftButton)  # clicking again clears
    assert window.document.proto.run(cell.run.id).rating.thumb is None
    assert not cell.down.isChecked() and not cell.up.isChecked()
    QTest.keyClick(cell, Qt.Key.Key_Down)
    assert window.grid.cells[("c2", "p2", "fake")].hasFocus()


def test_continue_the_conversation_keeps_each_column_history(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    fake_server.responder = lambda rec: Reply(text=f"Answer from {rec.messages[0]['content'][:17]}")
    window = make_window(proto_file)
    window.run_grid(False)
    wait_idle(qtbot, window)
    fake_server.requests.clear()
    box = window.grid.findChild(QLineEdit, "continue-c1")
    QTest.keyClicks(box, "And then?")
    QTest.keyClick(box, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    histories = sorted(
        ([m["role"] for m in r.messages], r.messages[2]["content"]) for r in fake_server.chat_requests()
    )
    assert histories == [
        (["system", "user", "assistant", "user"], "Answer from You are variant 1"),
        (["system", "user", "assistant", "user"], "Answer from You are variant 2"),
    ]
    assert all(r.messages[-1]["content"] == "And then?" for r in fake_server.chat_requests())
    text = cell_text(window, ("c1", "p1", "fake"))
    assert text.index("Answer from You are variant 1") < text.index("And then?") < text.rindex("Answer from")
    assert text.count("Answer from You are variant 1") == 2  # the whole thread is shown
    continued = [r for r in window.document.proto.runs if r.parent is not None]
    assert len(continued) == 2
    assert "And then?" not in cell_text(window, ("c2", "p1", "fake"))  # only this case's row continued


def test_stop_keeps_partial_text(qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI) -> None:
    fake_server.default = Reply(text="slow " * 400, tokens_per_s=20)
    window = make_window(proto_file)
    window.run_grid(False)
    key = ("c1", "p1", "fake")
    qtbot.waitUntil(lambda: "slow" in cell_text(window, key), timeout=TIMEOUT)
    assert window.act_stop.isEnabled()
    QTest.keyClick(window, Qt.Key.Key_Escape)
    wait_idle(qtbot, window)
    runs = window.document.proto.runs
    assert runs and all(r.status == "cancelled" for r in runs)
    cell = window.grid.cells[key]
    assert "slow" in cell.view.toPlainText()
    assert cell.error.isVisible() and "Stopped" in cell.error.text()
    assert not window.act_stop.isEnabled()


def test_save_reopen_and_find_every_rating(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    window.run_grid(False)
    wait_idle(qtbot, window)
    cells = list(window.grid.cells.values())
    cells[0].setFocus()
    QTest.keyClick(cells[0], Qt.Key.Key_Plus)
    QTest.keyClick(cells[1], Qt.Key.Key_Minus)
    cells[1].note.setText("rambles")
    cells[1].note.editingFinished.emit()
    cells[2].tags.setText("cute")
    cells[2].tags.editingFinished.emit()
    expected = {c.key: (c.run.rating.thumb, c.run.rating.note, c.run.rating.tags) for c in cells}
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.document.dirty, timeout=TIMEOUT)
    assert "*" not in window.windowTitle().replace("[*]", "")
    assert len(load_prototype(proto_file).runs) == 4

    again = make_window(proto_file)
    found = {
        c.key: (c.run.rating.thumb, c.run.rating.note, c.run.rating.tags) for c in again.grid.cells.values()
    }
    assert found == expected
    cell = again.grid.cells[cells[1].key]
    assert cell.down.isChecked() and cell.note.text() == "rambles"


def test_malformed_file_opens_nothing_and_shows_where(
    qtbot, make_window, proto_file: Path, tmp_path: Path
) -> None:
    window = make_window(proto_file)
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: Broken\nprofiles:\n  - id: a\n    sytem_prompt: hi\n", encoding="utf-8")
    window.file_ops.open_path(bad)
    qtbot.waitUntil(lambda: window.bar.text() != "", timeout=TIMEOUT)
    assert f"{bad}:4:5" in window.bar.text()
    assert "system_prompt" in window.bar.text()  # the loader's "did you mean" hint
    assert window.document.path == proto_file
    assert window.document.proto.name == "UI test"


def test_unsaved_changes_are_autosaved_and_offered_back(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    from app.ui.file_ops import recovery_paths

    window = make_window(proto_file)
    window.run_grid(False)
    wait_idle(qtbot, window)
    cell = window.grid.cells[("c2", "p2", "fake")]
    cell.setFocus()
    QTest.keyClick(cell, Qt.Key.Key_Plus)
    qtbot.waitUntil(lambda: window.file_ops.autosaves >= 1 and recovery_paths()[0].exists(), timeout=TIMEOUT)
    # a crash: the window goes away without saving or clearing the recovery file
    window.shutdown()
    window.file_ops.clear_recovery = lambda: None
    window.hide()

    again = make_window(proto_file)
    qtbot.waitUntil(lambda: "autosaved" in again.bar.text(), timeout=TIMEOUT)  # metadata read off-thread
    button = next(b for b in again.bar.findChildren(QPushButton) if b.text() == "Recover")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: again.document.dirty, timeout=TIMEOUT)  # read and parsed off the GUI thread
    assert again.document.path == proto_file
    rated = [r for r in again.document.proto.runs if r.rating.thumb is not None]
    assert [(r.case, r.profile, r.rating.thumb) for r in rated] == [("c2", "p2", "up")]


def test_closing_with_unsaved_changes_asks(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    window.document.proto.name = "Renamed"
    window.document.structure_edited()
    assert window.isWindowModified()
    asked = []
    window.file_ops.ask_unsaved = lambda: asked.append(1) or "cancel"
    window.close()
    assert asked and window.isVisible()
    window.file_ops.ask_unsaved = lambda: "save"
    window.close()
    assert not window.isVisible()
    assert load_prototype(proto_file).name == "Renamed"


def test_opening_another_file_mid_run_keeps_old_answers_out(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI, tmp_path: Path
) -> None:
    fake_server.default = Reply(text="old " * 300, tokens_per_s=30)
    window = make_window(proto_file)
    window.run_grid(False)
    qtbot.waitUntil(lambda: "old" in cell_text(window, ("c1", "p1", "fake")), timeout=TIMEOUT)
    other = tmp_path / "other.yaml"
    other.write_text(proto_file.read_text(encoding="utf-8").replace("UI test", "Other"), encoding="utf-8")
    window.file_ops.open_path(other)
    qtbot.waitUntil(lambda: window.document.path == other, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.document.proto.name == "Other"
    assert window.document.proto.runs == []
    assert not window.document.dirty


def test_no_argument_reopens_the_last_file_with_its_layout(make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    window.resize(780, 560)  # inside the offscreen screen, so the geometry comes back unclamped
    window.splitter.setSizes([200, 150, 400])
    sizes = window.splitter.sizes()
    window.close()
    again = make_window(None)
    assert again.document.path == proto_file.resolve()
    assert again.splitter.sizes() == sizes


def test_dropping_a_yaml_file_opens_it(qtbot, make_window, proto_file: Path, tmp_path: Path) -> None:
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    other = tmp_path / "dropped.yaml"
    other.write_text(proto_file.read_text(encoding="utf-8").replace("UI test", "Dropped"), encoding="utf-8")
    window = make_window(proto_file)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.document.path == other, timeout=TIMEOUT)
    assert window.document.proto.name == "Dropped"
    assert "Dropped" in window.windowTitle()


def test_run_a_row_a_cell_and_rerun_past_the_cache(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    from PySide6.QtWidgets import QToolButton

    window = make_window(proto_file)
    row_run = window.grid.findChildren(QToolButton, "row-run")[1]  # the second case's row
    qtbot.mouseClick(row_run, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert sorted(r.case for r in window.document.proto.runs) == ["c2", "c2"]
    assert len(fake_server.chat_requests()) == 2
    cell = window.grid.cells[("c1", "p2", "fake")]
    qtbot.mouseClick(cell.run_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert len(fake_server.chat_requests()) == 3 and "live" in cell.status.text()
    first = cell.run
    qtbot.mouseClick(cell.run_button, Qt.MouseButton.LeftButton)  # same prompt: answered from the cache
    wait_idle(qtbot, window)
    assert len(fake_server.chat_requests()) == 3  # the cache answered; the file gains nothing,
    assert len(window.document.proto.runs) == 3 and cell.run is first  # the stored answer stays shown
    qtbot.mouseClick(cell.rerun_button, Qt.MouseButton.LeftButton)  # re-run bypasses the cache
    wait_idle(qtbot, window)
    assert len(fake_server.chat_requests()) == 4 and "live" in cell.status.text()
    assert cell.run is not first and cell.status.text().startswith("2 of 2 · ")
