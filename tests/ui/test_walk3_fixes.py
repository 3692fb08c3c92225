"""Fixes from the third new-designer walk-through: 4 profiles x 3 models x 5 cases at 1280x800."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakeserver import FakeOpenAI
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QWidget
from ui_prototypes import fake_prototype

from app.core.document import save_prototype
from app.core.prototype import Case, Message, ModelTarget, Run, Turn
from app.ui.elided_label import ElidedLabel

FORM_FACTORS = ("voice", "notification", "chat", "canvas")
VOICE_REPLY = "Sure! Here are 3 options: **bold** 1) https://example.com/x 2) $4.99 3) | a | b |"


def realistic_file(tmp_path: Path, server: FakeOpenAI) -> Path:
    """4 profiles (one per form factor) x 3 models x 5 cases, every cell answered."""
    proto = fake_prototype(server.base_url, profiles=4, cases=5, local=False)
    proto.name = "Cat persona studio, grumpy edition"
    for profile, form_factor in zip(proto.profiles, FORM_FACTORS, strict=True):
        profile.form_factor = form_factor  # type: ignore[assignment]
        profile.name = f"Grumpy cat, {form_factor}, short answers"
    proto.models = [ModelTarget(id=f"m{n}", provider="vllm", model=f"fake-model-{n}", name=f"Fake model {n}",
                                base_url=server.base_url) for n in range(1, 4)]
    proto.cases = [Case(id=f"c{n}", description=f"Case {n}", vars={"cat": "Tom"},
                        turns=[Turn(content=f"Question {n}?")]) for n in range(1, 6)]
    proto.runs = [
        Run(id=f"r-{c.id}-{p.id}-{m.id}", created="2026-11-30T08:00:00Z", profile=p.id, model=m.id, case=c.id,
            messages=[Message(role="user", content=c.turns[0].content)],
            output=VOICE_REPLY if p.form_factor == "voice" else "Your order #12345 has shipped and will "
            "arrive tomorrow between 9 and 5; track it in the app.")
        for c in proto.cases for p in proto.profiles for m in proto.models
    ]
    path = tmp_path / "walk3.yaml"
    save_prototype(proto, path)
    return path


def clipped_parts(root: QWidget, cell: QWidget) -> list[str]:
    """Visible widgets under `root` cut off by `cell`'s edge or squeezed below their minimum width
    (an `ElidedLabel` shortens itself with "…" and a tooltip: not clipped)."""
    found = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisible() or isinstance(widget, ElidedLabel) or widget.parent() is None:
            continue
        left = widget.mapTo(cell, QPoint(0, 0)).x()
        if left + widget.width() > cell.width() or widget.minimumSizeHint().width() > widget.width():
            found.append(f"{widget.objectName() or type(widget).__name__} ({widget.width()} px, "
                         f"needs {widget.minimumSizeHint().width()})")
    return found


@pytest.mark.parametrize("models_shown", [3, 1])
def test_voice_bar_and_notification_picker_fit_narrow_cells(
    qtbot, make_window, tmp_path: Path, fake_server: FakeOpenAI, models_shown: int
) -> None:
    """At 1280x800, 4 profiles x 3 models (12 columns) or x 1 (4 columns): the voice bar and the
    notification picker and card stay inside their cells."""
    window = make_window(realistic_file(tmp_path, fake_server), fake_only=False)
    for n in range(1, 4):  # a new file shows its first model only
        window.selection.set_shown("models", f"m{n}", n <= models_shown)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1280, 800))
    grid = window.grid
    qtbot.waitUntil(lambda: len(grid.cells) == 4 * models_shown * 5)
    QApplication.processEvents()
    checked = 0
    for key, cell in grid.cells.items():
        if key[0] != "c1" or key[1] not in ("p1", "p2"):
            continue
        qtbot.waitUntil(lambda c=cell: c.body.current_preview() is not None)
        preview = cell.body.current_preview()
        assert preview.objectName() in ("preview-voice", "preview-notification")
        qtbot.waitUntil(lambda p=preview: p.width() > 0)
        assert clipped_parts(preview, cell) == [], f"{key} at {cell.width()} px"
        if preview.objectName() == "preview-notification":  # the phone's name ends in "…", not mid-word
            picker = preview.picker
            shown = picker.shown_text()
            assert shown == picker.currentText() or shown.endswith("…")
            assert picker.fontMetrics().horizontalAdvance(shown) < picker.width()
        checked += 1
    assert checked == 2 * models_shown


def _tab_stop_name(widget: QWidget | None) -> str:
    """`row-run@c1`, `cell@c1/p2`, `cell-note@c1/p2`, `continue-c1`: where Tab landed."""
    if widget is None:
        return "none"
    owner = widget
    while owner is not None and not hasattr(owner, "key"):
        owner = owner.parentWidget()
    if owner is not None:
        return f"{widget.objectName()}@{owner.key[0]}/{owner.key[1]}"
    box = widget.parentWidget()
    case = next((b.findChild(QWidget, "row-header").property("case") for b in [box]
                 if b is not None and b.findChild(QWidget, "row-header") is not None), None)
    return f"{widget.objectName()}@{case}" if case else widget.objectName() or type(widget).__name__


def test_tab_reaches_a_rows_buttons_before_its_cells_with_a_visible_focus(
    qtbot, qtlog, make_window, tmp_path: Path, fake_server: FakeOpenAI
) -> None:
    """Reading order: the grid's controls, then row 1's buttons, row 1's cells, its continue box,
    then row 2's buttons (Tab used to reach every row's buttons only after all the cells)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window = make_window(realistic_file(tmp_path, fake_server))
    window.resize(1280, 800)
    grid = window.grid
    qtbot.waitUntil(lambda: len(grid.cells) == 4 * 5)
    for model in ("m2", "m3"):  # 12 columns, a notification card's picker (its popup is another window)
        window.selection.set_shown("models", model, True)
    qtbot.waitUntil(lambda: len(grid.cells) == 12 * 5)
    assert not [r.message for r in qtlog.records if "setTabOrder" in r.message]
    for model in ("m2", "m3"):
        window.selection.set_shown("models", model, False)
    qtbot.waitUntil(lambda: len(grid.cells) == 4 * 5)
    start = grid.controls.findChild(QWidget, "grid-samples")
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus)
    seen = []
    for _ in range(19):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(_tab_stop_name(QApplication.focusWidget()))
    row_one = [f"{name}@c1/p{n}" for n in range(1, 5) for name in ("cell", "cell-note", "cell-tags")]
    assert seen[:2] == ["row-run@c1", "row-rerun@c1"]
    assert seen[2:14] == row_one
    assert seen[14] == "continue-c1"
    assert seen[16:18] == ["row-run@c2", "row-rerun@c2"]
    assert seen[18] == "cell@c2/p1"

    button = grid._row_boxes[1].findChild(QWidget, "row-run")
    button.clearFocus()
    QApplication.processEvents()
    plain = button.grab().toImage()
    button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(button.hasFocus)
    assert button.grab().toImage() != plain, "a focused row button looks like an unfocused one"


def test_a_cases_image_shows_in_the_user_bubble_from_the_local_file(qtbot, tmp_path: Path) -> None:
    """The case's photo was on the row label only; now it is in the chat bubble of the turn that
    carries it, read from the local file (a missing file says so, nothing is fetched)."""
    from PySide6.QtGui import QColor, QImage

    from app.core.prototype import ImageRef
    from app.ui.cell_widget import CellWidget
    from app.ui.previews import PreviewContext
    from app.ui.previews.chat import ChatPreview

    photo = QImage(120, 80, QImage.Format.Format_RGB32)
    photo.fill(QColor("orange"))
    assert photo.save(str(tmp_path / "cat.png"))
    refs = [ImageRef(path="cat.png"), ImageRef(path="gone.png")]
    run = Run(id="r1", created="2026-11-30T08:00:00Z", profile="p", model="m", case="c1",
              messages=[Message(role="user", content="What breed is this?", images=refs)], output="A tabby.")
    cell = CellWidget(("c1", "p", "m"), "Model")
    qtbot.addWidget(cell)
    cell.set_preview_context(PreviewContext("chat", folder=str(tmp_path)))
    cell.show_thread([run])
    cell.show()
    preview = cell.body.current_preview()
    assert isinstance(preview, ChatPreview)
    # both files are read off the GUI thread, in either order: wait for both outcomes
    qtbot.waitUntil(lambda: preview.image_names == ["cat.png"] and "(missing)" in preview.bubble_texts()[0])
    bubbles = preview.bubble_texts()
    assert bubbles[0].startswith("What breed is this?")
    assert "[image: gone.png (missing)]" in bubbles[0] and "A tabby." in bubbles[1]
    cursor_text = preview.document().toHtml()
    assert "protostudio-thumb:0" in cursor_text and "http" not in cursor_text.split("<body")[1]


def test_a_simulated_conversation_says_which_turn_it_is_on(
    qtbot, make_window, tmp_path: Path, fake_server: FakeOpenAI
) -> None:
    """The cell says "turn 2 of up to 4" while a scripted conversation runs, and the status bar counts
    replies as replies ("of up to"), not as cells done."""
    from fakeserver import Recorded, Reply
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from app.core.prototype import ModelTarget, Profile, Prototype, SimulatedUser

    proto = Prototype(
        name="sim", profiles=[Profile(id="p1")],
        models=[ModelTarget(id="fake", provider="vllm", model="fm", base_url=fake_server.base_url)],
        cases=[Case(id="c1", turns=[Turn(content="18% of $64?")],
                    simulated_user=SimulatedUser(script=["and for 20%?", "and 25%?"], max_turns=3))],
    )
    path = tmp_path / "sim.yaml"
    save_prototype(proto, path)

    def respond(rec: Recorded) -> Reply:
        turn = sum(m["role"] == "user" for m in rec.messages)
        return Reply(text=f"Answer {turn}. " + "more " * 20, tokens_per_s=300)

    fake_server.responder = respond
    window = make_window(path)
    cell = window.grid.cells[("c1", "p1", "fake")]
    headers: list[str] = []
    progress: list[str] = []
    window.controller.sig_cell_started.connect(lambda *_a: headers.append(cell.status.text()))
    window.controller.sig_progress.connect(lambda *_a: progress.append(window.progress.text()))
    QTest.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    document = window.document
    qtbot.waitUntil(lambda: not window.controller.busy and len(document.proto.runs) == 3, timeout=20_000)
    assert [h.split(" · ")[0] for h in headers] == [f"turn {n} of up to 4" for n in (1, 2, 3)]
    assert any("1 of up to 4 replies" in p for p in progress), progress
    assert not any(" done" in p and p.startswith("Running") for p in progress), progress


def test_a_failed_cell_with_no_text_says_so_in_its_body(qtbot) -> None:
    """A canvas, voice or notification cell whose endpoint does not exist showed a blank white box
    above the red reason; it now says there is no answer and that the reason is below."""
    from app.ui.cell_widget import NO_ANSWER_TEXT, CellWidget
    from app.ui.previews import PreviewContext

    failed = Run(id="r1", created="2026-11-30T08:00:00Z", profile="p", model="m", case="c1", status="error",
                 error="Could not reach vLLM at http://127.0.0.1:9",
                 messages=[Message(role="user", content="Hi")])
    cell = CellWidget(("c1", "p", "m"), "My endpoint")
    qtbot.addWidget(cell)
    cell.set_preview_context(PreviewContext("voice"))
    cell.show_thread([failed])
    cell.show()
    assert cell.body.stack.currentWidget() is cell.view and cell.view.isVisible()
    assert cell.view.placeholderText() == NO_ANSWER_TEXT and not cell.view.toPlainText()
    assert cell.error.isVisible()
    cell.show_thread([failed.model_copy(update={"status": "ok", "output": "Fine.", "error": None})])
    assert cell.view.placeholderText() == ""


def test_a_cell_stopped_before_any_text_no_longer_says_not_run(qtbot) -> None:
    """Stopped while waiting: the body said "Not run · Ctrl+Enter" right above "Stopped. No answer
    had arrived"."""
    from app.ui.cell_widget import EMPTY_TEXT, NO_ANSWER_TEXT, CellWidget

    cell = CellWidget(("c1", "p", "m"), "local")
    qtbot.addWidget(cell)
    cell.show_thread([])
    assert cell.view.placeholderText() == EMPTY_TEXT
    cell.show_queued()
    stopped = Run(id="r1", created="2026-11-30T08:00:00Z", profile="p", model="m", case="c1",
                  status="cancelled")
    cell.show_thread([])
    cell.show_unstored_end(stopped)
    assert cell.view.placeholderText() == NO_ANSWER_TEXT and cell.error.text().startswith("Stopped")


def test_the_row_label_shows_the_case_as_the_cells_send_it(
    qtbot, make_window, tmp_path: Path, fake_server: FakeOpenAI
) -> None:
    """The example's row label read "You are now a cat named {{cat_name}}" although the case sets
    cat_name: the label now fills the case's vars, as the cells do (unknown names stay as written)."""
    proto = fake_prototype(fake_server.base_url)
    proto.cases[0].turns = [Turn(content="You are {{cat}} now. And {{nobody}}?")]
    path = tmp_path / "vars.yaml"
    save_prototype(proto, path)
    window = make_window(path)
    labels = {label.property("case"): label.text() for label in window.grid._row_labels}
    assert "You: You are Tom now. And {{nobody}}?" in labels["c1"]
