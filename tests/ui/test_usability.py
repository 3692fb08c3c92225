"""Fixes found by using the app as a designer would: cut-off text, blank panes, questions asked too early."""

from __future__ import annotations

import functools
from pathlib import Path

from fakeserver import FakeOpenAI
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit

from app.core.ratings import rating_of
from app.ui.cell_widget import ElidedLabel
from app.ui.plain import plain_tip

TIMEOUT = 20_000
THUMBS = ("\N{THUMBS UP SIGN}", "\N{THUMBS DOWN SIGN}")


def run_and_wait(qtbot, window) -> None:
    window.run_grid(False)
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)


def test_status_line_ends_in_an_ellipsis_when_narrow_and_shows_all_on_hover(qtbot) -> None:
    label = ElidedLabel()
    qtbot.addWidget(label)
    full = "local · 67 tok · TTFT 5.09 s · 6.7 s · free · live"
    label.setText(full)
    label.resize(120, 20)
    shown = label.shown_text()
    assert shown.endswith("…") and len(shown) < len(full)
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert label.text() == full and label.toolTip() == plain_tip(full)  # escaped: never read as HTML
    label.resize(label.fontMetrics().horizontalAdvance(full) + 20, 20)
    assert label.shown_text() == full


def test_a_cells_status_line_fits_its_cell(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    run_and_wait(qtbot, window)
    cell = window.grid.cells[("c1", "p1", "fake")]
    status = cell.status
    assert "live" in status.text() and status.toolTip() == plain_tip(status.text())
    assert status.fontMetrics().horizontalAdvance(status.shown_text()) <= status.contentsRect().width()
    assert "live" in status.shown_text()  # fresh or cached survives the "…" of a narrow cell


def test_a_long_note_reads_from_its_start_after_enter(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    run_and_wait(qtbot, window)
    cell = window.grid.cells[("c1", "p1", "fake")]
    cell.setFocus()
    QTest.keyClick(cell, Qt.Key.Key_N)
    note = "Friendly and on tone, but it never answers the actual question about the bill"
    QTest.keyClicks(cell.note, note)
    QTest.keyClick(cell.note, Qt.Key.Key_Return)
    assert cell.hasFocus()
    assert cell.run is not None and rating_of(cell.run, cell.rater).note == note
    assert cell.note.cursorPosition() == 0  # the start shows, not "…question about the bill"
    assert cell.note.toolTip() == plain_tip(note)


def test_a_long_evals_message_does_not_squeeze_the_editors(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    panel = window.extra["Evals"]
    before = panel.minimumSizeHint().width()
    panel.status.setText("Added 25 of 25 proposed assertions to every case and to each of the cases " * 3)
    assert panel.minimumSizeHint().width() <= before


def test_empty_evals_tables_say_what_to_do(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    panel = window.extra["Evals"]
    window.tabs.setCurrentWidget(panel)
    for table, words in ((panel.editor.table, "Propose from ratings"), (panel.matrix, "Run evals")):
        assert table.rowCount() == 0 and words in table.empty_hint
        painted = table.viewport().grab().toImage()
        hint, table.empty_hint = table.empty_hint, ""
        blank = table.viewport().grab().toImage()
        table.empty_hint = hint
        assert painted != blank  # the hint is drawn, not just stored


def test_proposals_spell_out_thumbs_for_desktops_without_emoji(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    run_and_wait(qtbot, window)
    cell = window.grid.cells[("c1", "p1", "fake")]
    cell.setFocus()
    QTest.keyClick(cell, Qt.Key.Key_Plus)
    panel = window.extra["Evals"]
    assert not any(t in panel.propose_button.toolTip() for t in THUMBS)
    dialog = panel.propose()
    assert dialog is not None
    texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert any("thumbs-up" in t for t in texts)
    assert not any(t in text for text in texts for t in THUMBS)
    dialog.set_all(True)
    dialog.accept()
    added = [a.description for a in window.document.proto.case("c1").assert_]
    assert any("thumbs-up" in d for d in added)
    assert not any(t in d for d in added for t in THUMBS)


def test_a_broken_file_is_reported_before_asking_about_unsaved_changes(
    qtbot, make_window, proto_file: Path, tmp_path: Path
) -> None:
    window = make_window(proto_file)
    window.document.proto.name = "Renamed"
    window.document.structure_edited()
    asked: list[int] = []
    window.file_ops.ask_unsaved = lambda: asked.append(1) or "cancel"
    bad = tmp_path / "broken.yaml"
    bad.write_text('name: "unterminated\n', encoding="utf-8")
    window.file_ops.open_path(bad)
    qtbot.waitUntil(lambda: window.bar.text() != "", timeout=TIMEOUT)
    assert f"{bad}:" in window.bar.text()
    assert asked == []  # nothing would be replaced, so there is nothing to ask
    assert window.document.dirty and window.document.proto.name == "Renamed"

    good = tmp_path / "other.yaml"
    good.write_text(proto_file.read_text(encoding="utf-8").replace("UI test", "Other"), encoding="utf-8")
    window.file_ops.open_path(good)
    qtbot.waitUntil(lambda: asked == [1], timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.file_ops.loading, timeout=TIMEOUT)
    assert window.document.path == proto_file and window.document.proto.name == "Renamed"


def test_opening_another_file_clears_the_last_run_summary(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI, tmp_path: Path
) -> None:
    window = make_window(proto_file)
    run_and_wait(qtbot, window)
    assert "Last run" in window.progress.text()
    other = tmp_path / "other.yaml"
    other.write_text(proto_file.read_text(encoding="utf-8"), encoding="utf-8")
    window.file_ops.open_path(other)
    qtbot.waitUntil(lambda: window.document.path == other, timeout=TIMEOUT)
    assert window.progress.text() == ""


def test_an_empty_cell_says_how_to_run_it_in_one_visible_line(qtbot, make_window, proto_file: Path) -> None:
    from app.ui.cell_widget import EMPTY_TEXT, QUEUED_TEXT, WAITING_TEXT

    window = make_window(proto_file)
    cell = window.grid.cells[("c1", "p1", "fake")]
    assert cell.view.placeholderText() == EMPTY_TEXT and "Ctrl+Enter" in EMPTY_TEXT
    # Qt draws a placeholder on one line, unwrapped: each fits the narrowest cell of a 4-column grid
    narrowest = 150  # px of text in a cell when the cat example's 4 columns fit a 1500 px window
    for text in (EMPTY_TEXT, QUEUED_TEXT, WAITING_TEXT):
        assert "\n" not in text
        assert cell.view.fontMetrics().horizontalAdvance(text) <= narrowest, text


def test_a_queued_follow_up_keeps_the_conversation_on_screen(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    from fakeserver import Reply

    window = make_window(proto_file)
    run_and_wait(qtbot, window)
    first = {key: cell.view.toPlainText() for key, cell in window.grid.cells.items() if key[0] == "c1"}
    assert all(first.values())
    one_slot = functools.partial(window.services.engine.configure, concurrency=1)
    window.services.call(one_slot)  # the second column must wait for the first
    fake_server.default = Reply(text="slow " * 40, tokens_per_s=40)
    box = window.grid.findChild(QLineEdit, "continue-c1")
    box.setText("And then?")
    QTest.keyClick(box, Qt.Key.Key_Return)
    queued = lambda: [k for k in first if "queued" in window.grid.cells[k].status.text()]  # noqa: E731
    qtbot.waitUntil(lambda: bool(queued()), timeout=TIMEOUT)
    key = queued()[0]
    text = window.grid.cells[key].view.toPlainText()
    assert first[key].strip()[:20] in text and "And then?" in text  # not a blank "Queued" box
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)
    assert "slow" in window.grid.cells[key].view.toPlainText()


def test_a_run_finishing_while_voting_keeps_the_reveal_and_the_place(qtbot) -> None:
    from app.core.prototype import Case, ModelTarget, Profile, Prototype, Run, Turn
    from app.ui.document_model import Document
    from app.ui.pairwise import PairwiseView

    def run(profile: str, case: str, tag: str = "") -> Run:
        return Run(id=f"run-{profile}-{case}{tag}", created="2026-11-22T07:00:00Z", profile=profile,
                   model="m", case=case, output=f"{profile} on {case}")

    document = Document(Prototype(
        name="votes",
        profiles=[Profile(id=p, name=p) for p in ("p1", "p2", "p3")],
        models=[ModelTarget(id="m", provider="local", model="tiny")],
        cases=[Case(id=f"c{i}", turns=[Turn(content=f"Question {i}?")]) for i in range(3)],
        runs=[run(p, f"c{i}") for p in ("p1", "p2") for i in range(3)],
    ))
    view = PairwiseView(document, seed=1)
    view.reveal_ms = 0
    qtbot.addWidget(view)
    view.show()
    view.vote("a")
    assert view.progress_label.text() == "Case 2 of 3"
    reveal = view.reveal_label.text()
    assert "Previous case" in reveal

    def finish_a_run(case: str) -> None:  # what the grid does when a cell of another column ends
        document.add_runs([run("p3", case, "-late")])

    finish_a_run("c0")
    assert view.progress_label.text() == "Case 2 of 3" and view.reveal_label.text() == reveal
    view.vote("b")
    view.vote("tie")
    assert view.current() is None and "All cases compared" in view.case_label.text()
    finish_a_run("c1")
    assert view.current() is None and "All cases compared" in view.case_label.text()


def test_arrowing_back_to_the_first_column_shows_the_case_text_again(
    qtbot, make_window, proto_file: Path
) -> None:
    from app.core.document import load_prototype, save_prototype

    proto = load_prototype(proto_file)
    first = proto.profiles[0]
    proto.profiles += [first.model_copy(update={"id": f"p{n}", "name": f"Profile {n}"}) for n in (3, 4, 5)]
    save_prototype(proto, proto_file)
    window = make_window(proto_file)
    window.resize(900, 600)
    bar = window.grid.scroll_area.horizontalScrollBar()
    window.grid.focus_first_cell()
    for _ in range(4):
        QTest.keyClick(window.grid.focused_cell(), Qt.Key.Key_Right)
    assert bar.value() > bar.minimum()
    for _ in range(4):
        QTest.keyClick(window.grid.focused_cell(), Qt.Key.Key_Left)
    assert window.grid.focused_cell() is window.grid.cells[("c1", "p1", "fake")]
    assert bar.value() == bar.minimum()
