"""Simulated users in the window: the case editor edits the block, and a scripted conversation
streams into the cells like typed follow-ups, marked as the simulated user's turns."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Recorded, Reply
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.core.document import save_prototype
from app.core.prototype import Case, ModelTarget, Profile, Prototype, SimulatedUser, Turn

TIMEOUT = 20_000


def test_the_case_editor_edits_the_simulated_user(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    window.navigator.select("cases", "c1")
    sim = window.editor.case_editor.simulated_user
    case = window.document.proto.case("c1")
    assert case.simulated_user is None and not sim.fields.isEnabled()
    sim.enabled.setChecked(True)
    assert case.simulated_user == SimulatedUser()
    sim.persona.setPlainText("A busy PM")
    sim.goal.setText("18% of $64")
    sim.goal.textEdited.emit("18% of $64")
    sim.max_turns.setValue(2)
    sim.model.setCurrentIndex(sim.model.findData("fake"))
    expected = SimulatedUser(persona="A busy PM", goal="18% of $64", max_turns=2, model="fake")
    assert case.simulated_user == expected
    sim.script.setPlainText("one\ntwo\nthree")  # longer than max_turns: the core refuses it
    assert sim.problem.isVisibleTo(window) and "max_turns" in sim.problem.text()
    assert case.simulated_user.script == []
    sim.max_turns.setValue(3)
    assert case.simulated_user.script == ["one", "two", "three"] and not sim.problem.isVisibleTo(window)
    sim.enabled.setChecked(False)
    assert case.simulated_user is None
    assert window.document.dirty


def test_a_scripted_conversation_streams_into_the_cells(
    qtbot, make_window, tmp_path: Path, fake_server: FakeOpenAI
) -> None:
    proto = Prototype(
        name="sim", profiles=[Profile(id="p1")],
        models=[ModelTarget(id="fake", provider="vllm", model="fm", base_url=fake_server.base_url)],
        cases=[Case(id="c1", turns=[Turn(content="18% of $64?")],
                    simulated_user=SimulatedUser(script=["and for 20%?"], max_turns=1))],
    )
    path = tmp_path / "sim.yaml"
    save_prototype(proto, path)

    def respond(rec: Recorded) -> Reply:
        turn = sum(m["role"] == "user" for m in rec.messages)
        return Reply(text=f"Answer {turn}. " + "more " * 30, tokens_per_s=200)

    fake_server.responder = respond
    window = make_window(path)
    QTest.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    cell = window.grid.cells[("c1", "p1", "fake")]
    # while the second reply streams, the scripted message shows above it, marked
    qtbot.waitUntil(lambda: "Answer 2." in cell.view.toPlainText(), timeout=TIMEOUT)
    assert "Scripted user: and for 20%?" in cell.view.toPlainText()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
    text = cell.view.toPlainText()
    assert "Answer 1." in text and "Scripted user: and for 20%?" in text
    assert text.index("Answer 1.") < text.index("Scripted user:") < text.index("Answer 2.")
    runs = window.document.proto.runs
    assert [r.user_turn for r in runs] == [None, "scripted"]
    assert runs[1].parent == runs[0].id
    assert cell.run is runs[1] and "reply 2" in cell.status.text()


def test_the_case_editor_can_remove_the_last_turn_when_a_simulated_user_opens(
    qtbot, make_window, proto_file: Path
) -> None:
    window = make_window(proto_file)
    window.navigator.select("cases", "c1")
    editor = window.editor.case_editor
    case = window.document.proto.case("c1")
    count = len(case.turns)
    for _ in range(count):  # without a simulated user, the last turn stays
        editor.remove_turn(0)
    assert len(case.turns) == 1 and len(editor._rows) == 1
    editor.simulated_user.enabled.setChecked(True)
    editor.remove_turn(0)
    assert case.turns == [] and editor._rows == []
    assert window.document.dirty
    # with no turn, the simulated user writes the first message: it cannot be turned off
    sim = editor.simulated_user
    sim.enabled.setChecked(False)
    assert case.simulated_user is not None and sim.enabled.isChecked()
    assert sim.problem.isVisibleTo(window) and "no fixed turn" in sim.problem.text()
    editor.add_turn()
    assert len(case.turns) == 1
    sim.enabled.setChecked(False)
    assert case.simulated_user is None


def test_an_opening_simulated_user_streams_its_first_message_and_the_end_shows(
    qtbot, make_window, tmp_path: Path, fake_server: FakeOpenAI
) -> None:
    proto = Prototype(
        name="sim", profiles=[Profile(id="p1")],
        models=[ModelTarget(id="fake", provider="vllm", model="fm", base_url=fake_server.base_url)],
        cases=[Case(id="c1", simulated_user=SimulatedUser(script=["hello, 18% of $64?"], max_turns=1))],
    )
    path = tmp_path / "sim.yaml"
    save_prototype(proto, path)
    fake_server.responder = lambda rec: Reply(text="It is $11.52.")
    window = make_window(path)
    QTest.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    cell = window.grid.cells[("c1", "p1", "fake")]
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "conversation ended" in cell.view.toPlainText(), timeout=TIMEOUT)
    text = cell.view.toPlainText()
    assert text.index("Scripted user: hello, 18% of $64?") < text.index("It is $11.52.")
    assert "conversation ended: script finished" in text
    (run,) = window.document.proto.runs
    assert run.user_turn == "scripted" and run.parent is None
    assert run.conversation_end is not None and run.conversation_end.by == "script_end"
