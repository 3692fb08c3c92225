"""Edit › Undo for structural edits, through the real window (`app/ui/document_undo.py`).

Deleting a case with runs, then Ctrl+Z with the focus in the navigator, brings the case, its runs,
ratings and votes back, and the grid shows them; redo deletes again; a text box with something to
undo keeps Ctrl+Z; a run that ends for a deleted case comes back with the undo.
"""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Reply
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from app.core.document import load_prototype, save_prototype
from app.core.messages import build_messages
from app.core.prototype import Preference, Rating, Run

TIMEOUT = 20_000


def _file_with_answers(path: Path) -> Path:
    """The test file (two profiles x the fake model x two cases) with c1 answered, rated and voted on."""
    proto = load_prototype(path)
    for profile in proto.profiles:
        proto.runs.append(Run(
            id=f"run-{profile.id}", created="2026-11-30T05:00:00Z", profile=profile.id, model="fake",
            case="c1", provider="vllm", model_name="fake-model",
            messages=build_messages(proto, profile, proto.cases[0]), output=f"Answer of {profile.id}.",
            ratings=[Rating(rater="ana", thumb="up" if profile.id == "p1" else "down")]))
    proto.preferences.append(Preference(id="vote", created="t", rater="ana", a="run-p1", b="run-p2",
                                        verdict="a"))
    save_prototype(proto, path)
    return path


def _press(widget, keys: QKeySequence.StandardKey) -> None:
    QTest.keySequence(widget, QKeySequence(keys))


def test_ctrl_z_in_the_navigator_brings_a_deleted_case_back(
    qtbot, make_window, proto_file: Path
) -> None:
    window = make_window(_file_with_answers(proto_file))
    window.document.set_rater("ana")
    proto = window.document.proto
    cases = window.navigator.sections["cases"]
    window.navigator.confirm = lambda _question: True
    cases.list.setFocus()
    window.navigator.select("cases", "c1")
    assert ("c1", "p1", "fake") in window.grid.cells and not window.isWindowModified()

    QTest.keyClick(cases.list, Qt.Key.Key_Delete)
    assert [c.id for c in window.document.proto.cases] == ["c2"]
    assert proto.runs == [] and proto.preferences == []
    assert ("c1", "p1", "fake") not in window.grid.cells
    assert window.bar.text() == "Deleted case 'c1' with 2 results."
    assert window.isWindowModified()
    window.document_undo.update_texts()
    assert window.document_undo.act_undo.text() == "Undo delete case 'c1'"

    cases.list.setFocus()
    _press(cases.list, QKeySequence.StandardKey.Undo)
    assert [c.id for c in proto.cases] == ["c1", "c2"]
    assert [r.id for r in proto.runs] == ["run-p1", "run-p2"]
    assert [p.id for p in proto.preferences] == ["vote"]
    cell = window.grid.cells[("c1", "p1", "fake")]
    assert cell.run is proto.runs[0] and cell.up.isChecked()
    assert window.grid.cells[("c1", "p2", "fake")].down.isChecked()
    assert not window.isWindowModified()  # back to the file as saved
    assert window.bar.text() == ""  # its Undo button would now mean nothing
    window.document_undo.update_texts()
    assert window.document_undo.act_redo.text() == "Redo delete case 'c1'"

    _press(cases.list, QKeySequence.StandardKey.Redo)
    assert [c.id for c in proto.cases] == ["c2"] and proto.runs == []
    assert window.isWindowModified()


def test_the_message_bar_undo_button(qtbot, make_window, proto_file: Path) -> None:
    from PySide6.QtWidgets import QPushButton

    window = make_window(_file_with_answers(proto_file))
    window.navigator.confirm = lambda _question: True
    window.navigator.select("profiles", "p2")
    window.navigator.sections["profiles"].on_delete()
    assert window.bar.text() == "Deleted profile 'p2' with 1 result."
    undo = next(b for b in window.bar.findChildren(QPushButton) if b.text() == "Undo")
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert [p.id for p in window.document.proto.profiles] == ["p1", "p2"]
    assert len(window.document.proto.runs) == 2 and window.document.proto.preferences


def test_a_text_box_keeps_its_own_undo_then_passes_ctrl_z_on(
    qtbot, make_window, proto_file: Path
) -> None:
    window = make_window(proto_file)
    proto = window.document.proto
    window.navigator.sections["cases"].on_add()
    assert [c.id for c in proto.cases] == ["c1", "c2", "case"]
    window.navigator.select("profiles", "p1")
    box = window.editor.profile_editor.system_prompt
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    before = proto.profile("p1").system_prompt
    box.moveCursor(box.textCursor().MoveOperation.End)
    QTest.keyClicks(box, " Purr.")
    assert proto.profile("p1").system_prompt == before + " Purr."
    window.document_undo.update_texts()
    assert window.document_undo.act_undo.text() == "Undo"  # the text box's own
    _press(box, QKeySequence.StandardKey.Undo)
    assert proto.profile("p1").system_prompt == before
    assert [c.id for c in proto.cases] == ["c1", "c2", "case"]  # the document was not touched
    qtbot.waitUntil(lambda: not box.document().isUndoAvailable())
    _press(box, QKeySequence.StandardKey.Undo)  # nothing left in the box: the document's turn
    assert [c.id for c in proto.cases] == ["c1", "c2"]


def test_rename_and_reorder_undo_and_a_new_file_clears_the_history(
    qtbot, make_window, proto_file: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QInputDialog

    window = make_window(proto_file)
    proto = window.document.proto
    section = window.navigator.sections["profiles"]
    section.on_add()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Shouty", True))
    section.on_rename()
    assert proto.profiles[-1].id == "shouty"
    section.list.model().moveRow(section.list.rootIndex(), 2, section.list.rootIndex(), 0)
    section.on_reordered()
    assert [p.id for p in proto.profiles] == ["shouty", "p1", "p2"]
    window.document_undo.undo()
    assert [p.id for p in proto.profiles] == ["p1", "p2", "shouty"]
    window.document_undo.undo()
    assert (proto.profiles[-1].id, proto.profiles[-1].name) == ("new-profile", "New profile")
    assert window.editor.profile_editor.profile is proto.profiles[-1]  # shown with its old name
    assert section.list.item(2).text() == "New profile"
    window.file_ops.new()
    assert window.document.history.undo_words() is None and window.document.history.redo_words() is None
    window.document_undo.update_texts()
    assert window.document_undo.act_undo.text() == "Undo"


def test_a_run_ending_for_a_deleted_case_comes_back_with_the_undo(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    """Decided: the late answer is not stored while its case is gone (no orphan run in the file); it
    waits in the delete's undo record, so Undo brings it back with the case."""
    fake_server.default = Reply(text="Slow purr. " * 30, tokens_per_s=60)
    window = make_window(proto_file)
    proto = window.document.proto
    window.navigator.confirm = lambda _question: True
    window.run_part(["c2"], ["p1"], ["fake"], False)
    qtbot.waitUntil(lambda: "Slow purr." in window.grid.cells[("c2", "p1", "fake")].view.toPlainText(),
                    timeout=TIMEOUT)
    assert window.controller.busy
    window.navigator.select("cases", "c2")
    window.navigator.sections["cases"].on_delete()
    assert [c.id for c in proto.cases] == ["c1"]
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
    assert [r for r in proto.runs if r.case == "c2"] == []  # no run for a case the file lacks
    window.document_undo.undo()
    assert [c.id for c in proto.cases] == ["c1", "c2"]
    late = [r for r in proto.runs if r.case == "c2"]
    assert len(late) == 1 and late[0].output.count("Slow purr.") == 30


def test_an_undo_that_no_longer_fits_says_why(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    proto = window.document.proto
    window.navigator.select("cases", "c2")
    window.navigator.sections["cases"].on_delete()
    proto.cases.append(proto.cases[0].model_copy(update={"id": "c2"}))  # as Generate cases might
    window.document.structure_edited()
    window.document_undo.undo()
    assert window.bar.kind == "error"
    assert window.bar.text() == (
        "Cannot undo delete case 'c2': another case now has the id 'c2'; rename it first.")
    assert [c.id for c in proto.cases] == ["c1", "c2"]


def test_undo_back_to_the_saved_file_drops_the_recovery_copy(qtbot, make_window, proto_file: Path) -> None:
    from app.ui.file_ops import recovery_paths

    window = make_window(proto_file)
    window.navigator.select("cases", "c2")
    window.navigator.sections["cases"].on_delete()
    window.file_ops.autosave_now()
    qtbot.waitUntil(lambda: all(p.exists() for p in recovery_paths()), timeout=TIMEOUT)
    window.document_undo.undo()
    assert not window.document.dirty
    assert not any(p.exists() for p in recovery_paths())
    window.document_undo.redo()  # dirty again: autosaved as any other change
    assert window.document.dirty and window.isWindowModified()
