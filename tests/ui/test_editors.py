"""Navigator, editors, host confirmation and settings, driven through the real window."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Reply
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QInputDialog, QToolButton

from app.core.prototype import ModelTarget

TIMEOUT = 20_000


def test_navigator_adds_duplicates_renames_reorders_and_deletes(
    qtbot, make_window, proto_file: Path, monkeypatch
) -> None:
    window = make_window(proto_file)
    proto = window.document.proto
    section = window.navigator.sections["profiles"]
    button = window.navigator.findChild(QToolButton, "profiles-add")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert [p.id for p in proto.profiles] == ["p1", "p2", "new-profile"]
    assert len(window.grid.cells) == 6 and window.isWindowModified()
    assert window.editor.profile_editor.profile is proto.profiles[2]  # the new item opens in the editor
    qtbot.mouseClick(window.navigator.findChild(QToolButton, "profiles-duplicate"), Qt.MouseButton.LeftButton)
    assert proto.profiles[3].id == "new-profile-copy" and proto.profiles[3].name == "New profile (copy)"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Shouty", True))
    qtbot.mouseClick(window.navigator.findChild(QToolButton, "profiles-rename"), Qt.MouseButton.LeftButton)
    assert proto.profiles[3].name == "Shouty" and proto.profiles[3].id == "shouty"  # nothing refers to it yet
    assert section.list.item(3).text() == "Shouty" and section.current_id() == "shouty"
    assert window.editor.item_id == "shouty"
    section.list.model().moveRow(section.list.rootIndex(), 3, section.list.rootIndex(), 0)
    section.on_reordered()
    assert [p.id for p in proto.profiles] == ["shouty", "p1", "p2", "new-profile"]
    section.list.setCurrentRow(0)
    qtbot.mouseClick(window.navigator.findChild(QToolButton, "profiles-delete"), Qt.MouseButton.LeftButton)
    assert [p.id for p in proto.profiles] == ["p1", "p2", "new-profile"]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Calm", True))
    section.list.setCurrentRow(0)
    QTest.keyClick(section.list, Qt.Key.Key_F2)
    assert proto.profiles[0].name == "Calm"
    # unticking hides a column
    section.list.item(2).setCheckState(Qt.CheckState.Unchecked)
    assert len(window.grid.cells) == 4


def test_profile_editor_writes_through_with_undo(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    window.navigator.select("profiles", "p2")
    editor = window.editor.profile_editor
    assert editor.profile is window.document.proto.profile("p2")
    assert window.editor.currentWidget().widget() is editor
    editor.system_prompt.setFocus()
    editor.system_prompt.moveCursor(editor.system_prompt.textCursor().MoveOperation.End)
    QTest.keyClicks(editor.system_prompt, " Be {{mood}}.")
    assert window.document.proto.profile("p2").system_prompt.endswith("Be {{mood}}.")
    assert window.isWindowModified()
    QTest.keySequence(editor.system_prompt, QKeySequence.StandardKey.Undo)
    assert "{{mood}}" not in window.document.proto.profile("p2").system_prompt
    editor.spec.add_rule()
    assert [r.rule for r in window.document.proto.profile("p2").behavior_spec] == ["New rule"]
    editor.spec.good.setPlainText("Yes.\n---\nSure.")
    assert window.document.proto.profile("p2").behavior_spec[0].good == ["Yes.", "Sure."]
    editor.form_factor.setCurrentIndex(editor.form_factor.findData("voice"))
    assert window.document.proto.profile("p2").form_factor == "voice"


def test_case_editor_edits_turns_and_vars(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    window.navigator.select("cases", "c1")
    editor = window.editor.case_editor
    # highlighters repaint after a tick: showing a case (or leaving it) must not count as an edit
    with qtbot.assertNotEmitted(window.document.sig_changed, wait=100):
        window.navigator.select("models", "fake")
        window.navigator.select("profiles", "p1")
    assert not window.document.dirty
    window.navigator.select("cases", "c1")
    editor.add_turn()
    editor._rows[-1].text.setPlainText("Sure, what else?")
    editor.add_turn()
    editor._rows[-1].text.setPlainText("Tell me about {{cat}}.")
    case = window.document.proto.case("c1")
    assert [(t.role, t.content) for t in case.turns] == [
        ("user", "Question 1?"),
        ("assistant", "Sure, what else?"),
        ("user", "Tell me about {{cat}}."),
    ]
    editor.add_var()
    assert case.vars == {"cat": "Tom", "var": ""}
    editor.vars.item(1, 1).setText("calm")
    assert case.vars["var"] == "calm"


def test_a_shared_file_asks_before_a_key_goes_to_another_host(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    window.services.hub.keys.store("openai", "api.openai.com", "sk-test-123")
    window.document.proto.models.append(
        ModelTarget(id="shared", provider="openai", model="gpt-4o-mini", base_url=fake_server.base_url)
    )
    window.document.structure_edited()
    window.selection.set_shown("models", "fake", False)
    window.selection.set_shown("profiles", "p2", False)
    asked: list[tuple[str, str, str]] = []
    window.ask_host = lambda *args: asked.append(args) or False
    window.run_grid(False)
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)
    assert asked == [("OpenAI", "api.openai.com", f"http://127.0.0.1:{fake_server.port}")]
    assert fake_server.chat_requests() == []
    cell = window.grid.cells[("c1", "p1", "shared")]
    assert cell.error.isVisible() and "127.0.0.1" in cell.error.text()
    window.ask_host = lambda *args: True
    window.run_grid(True)
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)
    assert {r.authorization for r in fake_server.chat_requests()} == {"Bearer sk-test-123"}


def test_settings_tests_a_connection_and_stores_keys(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI, memory_keyring
) -> None:
    from app.ui.settings_dialog import SettingsDialog

    window = make_window(proto_file)
    hub = window.services.hub
    hub.registry.add("fakehost", fake_server.base_url, name="Fake host", needs_key=False)
    dialog = SettingsDialog(window.services, window.document.proto, window)
    qtbot.addWidget(dialog)
    tab = dialog.providers
    row = next(r for r in range(tab.table.rowCount()) if "fakehost" in tab.table.item(r, 0).text())
    tab.table.selectRow(row)
    qtbot.mouseClick(tab.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Connected" in tab.result.text(), timeout=TIMEOUT)
    assert "2 model(s)" in tab.result.text()

    fake_server.api_key = "right-key"
    qtbot.mouseClick(tab.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.test.isEnabled() and "Connected" not in tab.result.text(), timeout=TIMEOUT)
    assert "fake host" in tab.result.text().lower()
    assert "key" in tab.result.text().lower()  # the mapped 401 says the key is the problem

    spec = hub.registry.get("fakehost")
    tab.store_key(spec, "right-key")
    qtbot.waitUntil(lambda: tab.table.item(row, 2).text() == "key in keyring", timeout=TIMEOUT)
    name = f"fakehost@http://127.0.0.1:{fake_server.port}"
    assert memory_keyring.store[("protostudio", name)] == "right-key"
    assert tab.table.item(row, 2).text() == "key in keyring"
    qtbot.mouseClick(tab.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Connected" in tab.result.text(), timeout=TIMEOUT)
    tab.on_clear_key()
    qtbot.waitUntil(lambda: "removed" in tab.result.text(), timeout=TIMEOUT)
    assert memory_keyring.store == {}
    fake_server.default = Reply(text="ok")


def test_prices_can_be_edited(qtbot, make_window, proto_file: Path) -> None:
    from app.ui.settings_dialog import SettingsDialog

    window = make_window(proto_file)
    dialog = SettingsDialog(window.services, window.document.proto, window)
    qtbot.addWidget(dialog)
    table = dialog.prices.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 1).text() == "fake-model")
    table.item(row, 2).setText("1.5")
    table.item(row, 3).setText("6")
    qtbot.waitUntil(lambda: not dialog.prices.writing, timeout=TIMEOUT)
    assert dialog.prices.note.text().startswith("Saved")
    price = window.services.hub.prices.price("vllm", "fake-model")
    assert price is not None and (price.input_per_m, price.output_per_m) == (1.5, 6.0)


def test_a_new_models_id_follows_the_name_typed_in_the_editor(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    proto = window.document.proto
    qtbot.mouseClick(window.navigator.findChild(QToolButton, "models-add"), Qt.MouseButton.LeftButton)
    editor = window.editor.model_editor
    assert editor.target is proto.models[-1] and proto.models[-1].id == "new-model"
    editor.name.selectAll()
    QTest.keyClicks(editor.name, "Fake fast")
    qtbot.waitUntil(lambda: proto.models[-1].id == "fake-fast", timeout=TIMEOUT)
    section = window.navigator.sections["models"]
    assert window.editor.item_id == "fake-fast" and section.current_id() == "fake-fast"
    assert editor.target is proto.models[-1]  # the editor still edits it
