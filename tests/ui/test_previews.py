"""Form-factor previews in a cell: each renders what the core computes, the text toggle, voice
playback (with an injected program) and its missing-TTS state, tool-call chips, thumbnails."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from preview_kit import (
    CANVAS_CONTENT,
    FORM_FACTOR_TEXT,
    NOTIFICATION,
    VOICE,
    open_canvas_call,
    preview_prototype,
    tiny_png,
)
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from app.core.document import save_prototype
from app.core.formfactors import notification_preview, speaking_seconds, spoken_text
from app.core.prototype import Case, ConversationEnd, Prototype, Run, ToolCall, Turn
from app.ui.cell_widget import CellWidget
from app.ui.previews import PreviewContext, speech
from app.ui.previews import notification as notification_module
from app.ui.previews.canvas import NO_CANVAS, CanvasPreview
from app.ui.previews.chat import ChatPreview
from app.ui.previews.notification import NotificationPreviewWidget
from app.ui.previews.speech import MISSING_MESSAGE, SpeechPlayer
from app.ui.previews.voice import PLAY, STOP, VoicePreview, format_duration

KEY = ("c1", "p", "m")


@pytest.fixture(autouse=True)
def _fresh_shared_state() -> Iterator[None]:
    """Each test gets its own platform choice and a player that cannot make a sound."""
    notification_module._choice = None
    speech.set_shared_player(SpeechPlayer(program=""))
    yield
    speech.set_shared_player(None)
    notification_module._choice = None


def run_of(output: str, *, calls: list[ToolCall] | None = None, ident: str = "r1", parent: str | None = None,
           user: str = "Hi there") -> Run:
    from app.core.prototype import Message

    return Run(
        id=ident, created="2026-11-29T23:00:00Z", profile="p", model="m", case="c1", parent=parent,
        messages=[Message(role="system", content="Be brief."), Message(role="user", content=user)],
        output=output, tool_calls=calls or [],
    )


def cell_for(qtbot, form_factor: str, *runs: Run) -> CellWidget:
    cell = CellWidget(KEY, "Model")
    qtbot.addWidget(cell)
    cell.set_preview_context(PreviewContext(form_factor, "Lumen", "Order update"))
    cell.show_thread(list(runs))
    cell.show()
    return cell


def test_chat_shows_the_thread_as_bubbles_with_rendered_markdown(qtbot) -> None:
    cell = cell_for(qtbot, "chat", run_of("Here are **three** ideas:\n\n1. one\n2. two"))
    preview = cell.body.current_preview()
    assert isinstance(preview, ChatPreview) and preview.isVisible()
    bubbles = preview.bubble_texts()
    assert len(bubbles) == 2
    assert bubbles[0].strip() == "Hi there"
    assert "three ideas" in bubbles[1] and "**" not in bubbles[1]  # markdown rendered, not shown


def test_chat_follow_up_adds_the_new_user_message_and_reply(qtbot) -> None:
    first = run_of("First answer.")
    second = run_of("Second answer.", ident="r2", parent="r1", user="And then?")
    cell = cell_for(qtbot, "chat", first, second)
    preview = cell.body.current_preview()
    assert isinstance(preview, ChatPreview)
    assert [b.strip() for b in preview.bubble_texts()] == ["Hi there", "First answer.", "And then?",
                                                           "Second answer."]


def test_a_failed_call_with_no_text_draws_no_empty_answer_bubble(qtbot) -> None:
    failed = run_of("").model_copy(update={"status": "error", "error": "connection refused"})
    cell = cell_for(qtbot, "chat", failed)
    preview = cell.body.current_preview()
    assert isinstance(preview, ChatPreview)
    assert [b.strip() for b in preview.bubble_texts()] == ["Hi there"]  # its error shows below the preview
    empty = cell_for(qtbot, "chat", run_of(""))  # an answer that really was empty still says so
    assert [b.strip() for b in empty.body.current_preview().bubble_texts()] == ["Hi there", "(no text)"]


def test_chat_never_loads_images_from_model_output(qtbot) -> None:
    cell = cell_for(qtbot, "chat", run_of("![cat](http://127.0.0.1:9/cat.png) <img src='x'>"))
    preview = cell.body.current_preview()
    assert isinstance(preview, ChatPreview)
    text = preview.bubble_texts()[1]
    assert "[image: cat]" in text and "<img src='x'>" in text


def test_canvas_from_a_tool_call_shows_title_content_and_badge(qtbot) -> None:
    cell = cell_for(qtbot, "canvas", run_of("I drafted it in a canvas.", calls=[open_canvas_call()]))
    preview = cell.body.current_preview()
    assert isinstance(preview, CanvasPreview)
    assert preview.badge.text().startswith("Canvas opened · tool")
    assert preview.title.text() == "Offline mode launch post"
    assert "keep working without a connection" in preview.content.toPlainText()
    assert "**" not in preview.content.toPlainText()
    assert "I drafted it in a canvas." in preview.chat.toPlainText()
    assert not preview.empty.isVisible()
    assert CANVAS_CONTENT.startswith("# Offline mode is here")


def test_canvas_update_in_a_follow_up_replaces_the_document(qtbot) -> None:
    update = ToolCall(name="update_canvas", arguments=json.dumps({"content": "Shorter version."}))
    first = run_of("Drafted.", calls=[open_canvas_call()])
    second = run_of("Shortened it.", calls=[update], ident="r2", parent="r1", user="Shorter please")
    cell = cell_for(qtbot, "canvas", first, second)
    preview = cell.body.current_preview()
    assert isinstance(preview, CanvasPreview)
    assert preview.content.toPlainText().strip() == "Shorter version."
    assert preview.title.text() == "Offline mode launch post"
    assert "updated 1×" in preview.badge.text()


def test_canvas_marker_fallback_and_the_no_canvas_state(qtbot) -> None:
    cell = cell_for(qtbot, "canvas", run_of("[canvas: Cover letter]\nDear team,\n\nHello."))
    preview = cell.body.current_preview()
    assert isinstance(preview, CanvasPreview)
    assert preview.badge.text() == "Canvas opened · marker"
    assert preview.title.text() == "Cover letter"
    assert preview.content.toPlainText().startswith("Dear team,")
    cell.show_thread([run_of("Just a quick answer.", ident="r9")])
    assert preview.badge.text() == "No canvas"
    assert preview.empty.isVisible() and preview.empty.text() == NO_CANVAS
    assert not preview.content.isVisible()
    assert "Just a quick answer." in preview.chat.toPlainText()


def test_voice_shows_the_cores_spoken_text_time_and_flags(qtbot) -> None:
    cell = cell_for(qtbot, "voice", run_of(VOICE))
    preview = cell.body.current_preview()
    assert isinstance(preview, VoicePreview)
    spoken = spoken_text(VOICE)
    assert preview.text == spoken
    said, _, flagged = preview.view.toPlainText().partition("Doesn't work aloud")
    assert "https://" not in said and "**" not in said and "`" not in said
    assert said.split() == spoken.split()
    assert "https://weather.example.com" in flagged  # the flag quotes what it found
    assert format_duration(speaking_seconds(spoken)) in preview.duration.text()
    kinds = [flag.kind for flag in preview.flags]
    assert {"lists", "code", "urls", "long sentences"} <= set(kinds)
    shown = preview.view.toPlainText()
    for flag in preview.flags:
        assert flag.reason in shown.replace("\n", " ")
    assert preview.flag_badge.text() == f"⚠ {len(kinds)} flags"


def test_voice_without_tts_disables_the_button_with_a_message(qtbot) -> None:
    cell = cell_for(qtbot, "voice", run_of("Hello there."))
    preview = cell.body.current_preview()
    assert isinstance(preview, VoicePreview)
    assert not preview.play_button.isEnabled()
    assert preview.message.isVisible() and preview.message.text() == MISSING_MESSAGE
    assert "apt install espeak-ng" in preview.play_button.toolTip()


@pytest.fixture
def silent_player() -> SpeechPlayer:
    """A 'speech program' that reads the text and then waits: playback without a sound card."""
    player = SpeechPlayer(program=sys.executable,
                          arguments=["-c", "import sys, time; sys.stdin.read(); time.sleep(60)"])
    speech.set_shared_player(player)
    return player


def test_voice_plays_and_stops_on_the_button_and_the_key(qtbot, silent_player: SpeechPlayer) -> None:
    cell = cell_for(qtbot, "voice", run_of("Hello there."))
    preview = cell.body.current_preview()
    assert isinstance(preview, VoicePreview) and preview.play_button.isEnabled()
    preview.play_button.click()
    assert preview.playing and preview.play_button.text() == STOP
    process = silent_player._process
    assert process is not None
    qtbot.waitUntil(lambda: process.state() == process.ProcessState.Running)
    preview.play_button.click()
    assert not preview.playing and preview.play_button.text() == PLAY
    qtbot.keyClick(cell, Qt.Key.Key_S)
    assert preview.playing
    qtbot.keyClick(cell, Qt.Key.Key_S)
    assert not preview.playing


def test_voice_stops_when_the_cell_shows_another_answer(qtbot, silent_player: SpeechPlayer) -> None:
    cell = cell_for(qtbot, "voice", run_of("Hello there."))
    preview = cell.body.current_preview()
    assert isinstance(preview, VoicePreview)
    preview.toggle_play()
    assert silent_player.owner() is not None
    cell.show_thread([run_of("Another answer.", ident="r2")])
    assert silent_player.owner() is None and preview.play_button.text() == PLAY
    preview.toggle_play()
    cell.begin_stream([], None, False)  # a re-run starts streaming
    assert silent_player.owner() is None


def test_voice_stops_when_the_cell_is_deleted(qtbot, silent_player: SpeechPlayer) -> None:
    cell = CellWidget(KEY, "Model")
    cell.set_preview_context(PreviewContext("voice"))
    cell.show_thread([run_of("Hello there.")])
    preview = cell.body.current_preview()
    assert isinstance(preview, VoicePreview)
    preview.toggle_play()
    assert silent_player.owner() is not None
    cell.deleteLater()
    qtbot.waitUntil(lambda: silent_player.owner() is None)


def test_notification_card_shows_exactly_the_cores_visible_part(qtbot) -> None:
    cell = cell_for(qtbot, "notification", run_of(NOTIFICATION))
    preview = cell.body.current_preview()
    assert isinstance(preview, NotificationPreviewWidget)
    core = notification_preview(NOTIFICATION, "ios-lock-screen", "Order update")
    assert core.body_cut  # the example is long enough to be cut
    assert preview.body.text() == core.shown_body
    assert preview.title.text() == core.shown_title
    assert preview.app_name.text() == "LUMEN"
    assert core.body_cut in preview.cut.text() and preview.cut.isVisible()
    assert "body 178" in preview.limits.text()


def test_the_platform_picker_changes_every_card(qtbot) -> None:
    one = cell_for(qtbot, "notification", run_of(NOTIFICATION))
    two = cell_for(qtbot, "notification", run_of("Short and sweet."))
    first, second = one.body.current_preview(), two.body.current_preview()
    assert isinstance(first, NotificationPreviewWidget) and isinstance(second, NotificationPreviewWidget)
    first.picker.setCurrentIndex(first.picker.findData("android-collapsed"))
    core = notification_preview(NOTIFICATION, "android-collapsed", "Order update")
    assert first.body.text() == core.shown_body
    assert second.picker.currentData() == "android-collapsed"
    assert second.body.text() == "Short and sweet."
    assert second.cut.text().startswith("Nothing is cut off")


def test_text_toggle_by_click_and_key(qtbot) -> None:
    cell = cell_for(qtbot, "voice", run_of("Some **bold** words."))
    assert cell.body.showing_preview()
    cell.body.toggle.click()
    assert not cell.body.showing_preview() and cell.view.isVisible()
    assert cell.body.toggle.text() == "Voice"
    qtbot.keyClick(cell, Qt.Key.Key_R)
    assert cell.body.showing_preview() and cell.body.toggle.text() == "Text"
    assert "r: preview / text" in cell.toolTip()


def test_streaming_shows_the_text_view_then_the_preview(qtbot) -> None:
    cell = cell_for(qtbot, "notification", run_of("Old."))
    cell.begin_stream([], None, False)
    assert not cell.body.showing_preview() and not cell.body.bar.isVisible()
    cell.append_text("Fresh text")
    assert "Fresh text" in cell.view.toPlainText()
    cell.show_thread([run_of("Fresh text.", ident="r2")])
    preview = cell.body.current_preview()
    assert isinstance(preview, NotificationPreviewWidget) and preview.body.text() == "Fresh text."


def test_tool_call_chips_show_and_expand(qtbot) -> None:
    other = ToolCall(id="c2", name="search", arguments="{not json", result=None)
    cell = cell_for(qtbot, "chat", run_of("Done.", calls=[open_canvas_call(), other]))
    chips = cell.body.chips
    assert chips.isVisible()
    assert [c.text() for c in chips.chips] == ['open_canvas(title="Offline mod…")', "search(⚠ invalid JSON)"]
    assert not chips.details.isVisible()
    chips.chips[0].click()
    details = chips.details.toPlainText()
    assert chips.details.isVisible()
    assert '"title": "Offline mode launch post"' in details and details.rstrip().endswith("opened")
    chips.chips[1].click()
    assert not chips.chips[0].isChecked()
    assert "{not json" in chips.details.toPlainText() and "no result recorded" in chips.details.toPlainText()
    chips.chips[1].click()
    assert not chips.details.isVisible()
    cell.body.toggle.click()  # chips stay in the text view too
    assert chips.isVisible()


def test_a_cell_without_tool_calls_has_no_chips(qtbot) -> None:
    cell = cell_for(qtbot, "canvas", run_of("Plain."))
    assert not cell.body.chips.isVisible()


def test_thumbnails_show_images_and_a_placeholder_for_a_missing_one(qtbot, tmp_path: Path) -> None:
    from app.ui.previews.thumbnails import ThumbnailStrip

    proto = preview_prototype(tmp_path)
    strip = ThumbnailStrip()
    qtbot.addWidget(strip)
    strip.show_images(proto.cases[0].turns[0].images, tmp_path)
    qtbot.waitUntil(lambda: "loading" not in strip.states())
    assert strip.states() == ["shown", "missing"]
    assert strip.labels[0].pixmap().width() > 0
    assert strip.labels[1].text() == "missing" and "gone.png" in strip.labels[1].toolTip()


def test_dropping_an_image_on_a_turn_attaches_path_and_sha256(qtbot, tmp_path: Path) -> None:
    from app.ui.case_editor import CaseEditor

    (tmp_path / "pics").mkdir()
    image = tiny_png(tmp_path / "pics" / "photo.png")
    case = Case(id="c1", turns=[Turn(content="Look"), Turn(role="assistant", content="Nice"),
                                Turn(content="Again")])
    edits: list[bool] = []
    editor = CaseEditor(edits.append, prototype_dir=lambda: tmp_path)
    qtbot.addWidget(editor)
    editor.set_case(case)
    editor.resize(400, 600)
    editor.show()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image)), QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    row = editor._rows[0]
    point = QPointF(row.mapTo(editor, row.rect().center()))
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    editor.dropEvent(drop)
    qtbot.waitUntil(lambda: bool(case.turns[0].images))
    ref = case.turns[0].images[0]
    assert ref.path == "pics/photo.png"
    assert ref.sha256 == hashlib.sha256(image.read_bytes()).hexdigest()
    assert len(case.turns[0].images) == 1 and not case.turns[2].images
    assert edits == [True]
    qtbot.waitUntil(lambda: editor._rows[0].thumbs.states() == ["shown"])
    editor._rows[0].text.setPlainText("Look closer")  # editing the text keeps the images
    assert case.turns[0].images == [ref]


def test_dropping_on_an_unsaved_prototype_says_to_save_first(qtbot, tmp_path: Path) -> None:
    from app.ui.case_editor import CaseEditor
    from app.ui.previews.image_drop import NEEDS_SAVED_FILE

    editor = CaseEditor(lambda _s: None)
    qtbot.addWidget(editor)
    case = Case(id="c1", turns=[Turn(content="Look")])
    editor.set_case(case)
    editor.attach_files([tiny_png(tmp_path / "a.png")], 0)
    assert editor.image_message.text() == NEEDS_SAVED_FILE and not case.turns[0].images


def test_the_grid_picks_each_columns_preview_and_shows_case_thumbnails(
    qtbot, make_window, tmp_path: Path
) -> None:
    path = tmp_path / "lumen.yaml"
    save_prototype(preview_prototype(tmp_path), path)
    window = make_window(path)
    kinds = {"chat": ChatPreview, "canvas": CanvasPreview, "voice": VoicePreview,
             "notification": NotificationPreviewWidget}
    for (_case, profile, _model), cell in window.grid.cells.items():
        assert isinstance(cell.body.current_preview(), kinds[profile]), profile
    strip = window.grid._row_thumbs["c1"]
    qtbot.waitUntil(lambda: strip.states() == ["shown", "missing"])
    proto: Prototype = window.document.proto
    proto.profile("chat").form_factor = "voice"
    window.document.structure_edited()
    qtbot.waitUntil(lambda: isinstance(window.grid.cells[("c1", "chat", "fake")].body.current_preview(),
                                       VoicePreview))


def test_a_long_voice_reply_is_transformed_off_the_gui_thread(qtbot) -> None:
    from app.ui.previews.voice import BACKGROUND_FROM

    reply = "A short sentence here. " * (BACKGROUND_FROM // 20)
    cell = cell_for(qtbot, "voice", run_of(reply))
    preview = cell.body.current_preview()
    assert isinstance(preview, VoicePreview)
    assert preview.text == ""  # not yet: a job is working on it
    qtbot.waitUntil(lambda: preview.text == spoken_text(reply))
    assert format_duration(speaking_seconds(preview.text)) in preview.duration.text()


def test_dropping_an_image_on_a_case_row_in_the_grid_attaches_it(qtbot, make_window, tmp_path: Path) -> None:
    path = tmp_path / "lumen.yaml"
    save_prototype(preview_prototype(tmp_path), path)
    window = make_window(path)
    window.navigator.select("cases", "c1")
    header = window.grid._row_thumbs["c1"].parentWidget()
    new = tiny_png(tmp_path / "new.png", (40, 120, 200))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(new))])
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    from app.ui.previews.image_drop import ImageDropTarget

    target = header.findChild(ImageDropTarget)
    assert target is not None and header.acceptDrops()
    assert not window.document.dirty
    assert target.eventFilter(header, drop)  # Qt delivers drops only during a real drag session
    case = window.document.proto.case("c1")
    qtbot.waitUntil(lambda: len(case.turns[0].images) == 3)
    assert case.turns[0].images[-1].path == "new.png"
    assert window.document.dirty
    qtbot.waitUntil(lambda: window.grid._row_thumbs["c1"].states() == ["shown", "missing", "shown"])
    editor_row = window.editor.case_editor._rows[0]
    qtbot.waitUntil(lambda: editor_row.thumbs.states() == ["shown", "missing", "shown"])
    editor_row.text.setPlainText("Edited after the drop")  # typing keeps the dropped image
    assert case.turns[0].images[-1].path == "new.png"


def test_r_with_ctrl_is_not_the_text_toggle(qtbot) -> None:
    cell = cell_for(qtbot, "chat", run_of("Hi."))
    qtbot.keyClick(cell, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert cell.body.showing_preview()
    qtbot.keyClick(cell, Qt.Key.Key_R)
    assert not cell.body.showing_preview()


def test_chat_marks_a_simulated_users_turn(qtbot) -> None:
    first = run_of("First answer.")
    second = run_of("Second answer.", ident="r2", parent="r1", user="I am simulated")
    second = second.model_copy(update={"user_turn": "simulated"})
    cell = cell_for(qtbot, "chat", first, second)
    preview = cell.body.current_preview()
    assert isinstance(preview, ChatPreview)
    assert [b.strip() for b in preview.bubble_texts()] == [
        "Hi there", "First answer.", "Simulated user: I am simulated", "Second answer."]


def test_chat_after_a_tool_round_shows_no_tool_json_and_no_doubled_text(qtbot) -> None:
    """A run that called a tool stores the round in its messages and its text in `output` too."""
    from app.core.tools import exchange_messages

    call = ToolCall(id="call_1", name="get_weather", arguments='{"city": "Oslo"}', result='{"sky": "rain"}')
    first = run_of("Let me check.\n\nIt rains in Oslo.", calls=[call])
    first.messages += exchange_messages("Let me check.", [call])
    second = run_of("Take a coat.", ident="r2", parent="r1", user="Should I take a coat?", calls=[call])
    second.messages += exchange_messages("Checking again.", [call])
    cell = cell_for(qtbot, "chat", first, second)
    preview = cell.body.current_preview()
    assert isinstance(preview, ChatPreview)
    bubbles = [" ".join(b.split()) for b in preview.bubble_texts()]
    assert bubbles == ["Hi there", "Let me check. It rains in Oslo.", "Should I take a coat?", "Take a coat."]
    qtbot.keyClick(cell, Qt.Key.Key_R)  # the text view quotes the follow-up too
    assert "Should I take a coat?" in cell.view.toPlainText()


@pytest.mark.parametrize("form_factor", ["canvas", "voice", "notification"])
def test_a_failed_call_with_no_text_gets_no_form_factor_verdict(qtbot, form_factor: str) -> None:
    """A canvas preview said "the reply went to the canvas" and a voice one "fine" for nothing."""
    failed = run_of("").model_copy(update={"status": "error", "error": "connection refused"})
    cell = cell_for(qtbot, form_factor, failed)
    assert not cell.body.showing_preview()
    ok = cell_for(qtbot, form_factor, run_of(FORM_FACTOR_TEXT[form_factor]))
    assert ok.body.showing_preview()


def test_chat_says_how_a_simulated_conversation_ended(qtbot) -> None:
    """The chat preview is what a cell shows by default: the end must read there, not only under `r`."""
    first = run_of("First answer.")
    second = run_of("Second answer.", ident="r2", parent="r1", user="Thanks, that is all")
    end = ConversationEnd(by="done", reason="got three bullets")
    second = second.model_copy(update={"user_turn": "simulated", "conversation_end": end})
    cell = cell_for(qtbot, "chat", first, second)
    preview = cell.body.current_preview()
    assert isinstance(preview, ChatPreview)
    bubbles = [b.strip() for b in preview.bubble_texts()]
    assert bubbles[-1] == "Conversation ended: the simulated user was done: got three bullets"
    assert bubbles[-2] == "Second answer."
    plain = cell_for(qtbot, "chat", run_of("Just one answer."))  # not a simulated conversation: no end line
    assert not any("ended" in b for b in plain.body.current_preview().bubble_texts())
