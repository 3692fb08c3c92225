"""The Generate cases dialog with pytest-qt, against the scriptable server: stream, review, coverage, stop."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from casegen.kit import PROTO, proposal_reply
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.casegen.prompt import load_template
from app.core.document import parse_prototype
from app.ui.document_model import Document
from app.ui.generate_dialog import SMALL_MODEL_NOTE, GenerateDialog
from app.ui.services import Services


@pytest.fixture
def document(fake_server: FakeOpenAI, tmp_path: Path) -> Document:
    fake_server.responder = proposal_reply
    return Document(parse_prototype(PROTO.format(base_url=fake_server.base_url)), tmp_path / "g.yaml")


@pytest.fixture
def dialog(qtbot, document: Document) -> Iterator[GenerateDialog]:
    widget = GenerateDialog(document, Services())
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()
    widget.services.close()


def _pick_fake(dialog: GenerateDialog) -> None:
    dialog.model.setCurrentIndex(dialog.model.findData("fake"))


def test_the_coverage_line_names_unprobed_rules_and_the_small_model_note(dialog: GenerateDialog) -> None:
    assert dialog.coverage.text() == "2 rules have no case: chat-for-small, polite"
    assert dialog.fill_button.isVisible()
    assert dialog.model.currentData() == "local" and dialog.note.isVisible()
    assert dialog.note.text() == SMALL_MODEL_NOTE
    _pick_fake(dialog)
    assert not dialog.note.isVisible()


def test_proposals_stream_in_and_are_accepted_edited_or_rejected(
    qtbot, dialog: GenerateDialog, document: Document
) -> None:
    _pick_fake(dialog)
    dialog.count.setValue(4)
    with qtbot.waitSignal(dialog.sig_finished, timeout=30_000):
        dialog.generate_button.click()
        assert dialog.running and not dialog.generate_button.isEnabled()  # the GUI thread is free
    assert dialog.proposals.count() == 4 and not dialog.running
    assert "4 new proposal(s)" in dialog.status.text()
    first = dialog.proposals.item(0).text()
    assert first.split("\n")[0].count(" · ") == 2  # rule · kind · persona
    dialog.proposals.setCurrentRow(0)
    dialog.message_edit.setPlainText("An edited request about lighthouses.")
    dialog.accept_button.click()
    dialog.proposals.setCurrentRow(0)
    dialog.reject_button.click()
    assert dialog.proposals.count() == 2 and document.dirty
    added = document.proto.cases[-1]
    assert added.turns[0].content == "An edited request about lighthouses."
    assert added.origin is not None and added.origin.model == "fake" and added.probes
    dialog.accept_all_button.click()
    assert dialog.proposals.count() == 0 and len(document.proto.cases) == 1 + 3
    assert not dialog.accept_all_button.isEnabled()


def test_fill_these_generates_for_exactly_the_unprobed_rules(
    qtbot, dialog: GenerateDialog, document: Document, fake_server: FakeOpenAI
) -> None:
    _pick_fake(dialog)
    with qtbot.waitSignal(dialog.sig_finished, timeout=30_000):
        dialog.fill_button.click()
    assert dialog.checked_rules() == ["chat-for-small", "polite"]
    assert {p.rule_id for p in dialog.pending} == {"chat-for-small", "polite"} and len(dialog.pending) == 4
    dialog.accept_all_button.click()
    assert dialog.coverage.text() == "Every rule has a case that probes it."
    assert not dialog.fill_button.isVisible()


def test_an_edited_prompt_is_sent_kept_for_the_user_and_versioned(
    qtbot, dialog: GenerateDialog, fake_server: FakeOpenAI
) -> None:
    _pick_fake(dialog)
    dialog.set_checked_rules(["polite"])
    dialog.count.setValue(1)
    dialog.user_edit.setPlainText("Test this rule (id {{rule_id}}) as {{kind}}: {{rule}}")
    assert "+custom-" in dialog.prompt_version.text()
    with qtbot.waitSignal(dialog.sig_finished, timeout=30_000):
        dialog.generate_button.click()
    sent = fake_server.chat_requests()[0].messages[-1]["content"]
    assert sent == "Test this rule (id polite) as typical: Always be polite."
    qtbot.waitUntil(lambda: load_template().user.startswith("Test this rule"), timeout=5_000)
    assert dialog.pending[0].prompt_version == load_template().version


def test_stop_keeps_the_proposals_already_listed(
    qtbot, dialog: GenerateDialog, fake_server: FakeOpenAI
) -> None:
    counter, lock = itertools.count(), threading.Lock()

    def replies(rec: Recorded) -> Reply:
        with lock:
            number = next(counter)
        return proposal_reply(rec) if number < 2 else Reply(fault="hang")

    fake_server.responder = replies
    _pick_fake(dialog)
    dialog.count.setValue(8)
    dialog.generate_button.click()
    qtbot.waitUntil(lambda: dialog.proposals.count() >= 1, timeout=20_000)
    with qtbot.waitSignal(dialog.sig_finished, timeout=30_000):
        dialog.stop_button.click()
    assert dialog.proposals.count() >= 1 and dialog.result is not None and dialog.result.cancelled
    assert "stopped" in dialog.status.text()


def test_a_reply_that_does_not_parse_is_counted_not_shown(
    qtbot, dialog: GenerateDialog, fake_server: FakeOpenAI
) -> None:
    fake_server.responder = lambda rec: Reply(text=json.dumps({"oops": 1}))
    _pick_fake(dialog)
    dialog.count.setValue(2)
    with qtbot.waitSignal(dialog.sig_finished, timeout=30_000):
        dialog.generate_button.click()
    assert dialog.proposals.count() == 0
    assert "2 without a usable reply" in dialog.status.text()


def test_the_main_window_opens_it_on_its_document(make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    window.act_generate.trigger()
    dialog = window.generate_dialog
    assert dialog.isVisible() and dialog.document is window.document and dialog.services is window.services
    assert dialog.coverage.text().startswith("No behavior-spec rules yet: cases are written from the system")
    assert dialog.generate_button.isEnabled()  # not a dead end: the system prompts are enough


def test_with_no_rules_it_writes_cases_from_the_system_prompt(qtbot, fake_server: FakeOpenAI,
                                                             tmp_path: Path) -> None:
    """A new designer's file has a system prompt and no behavior spec: Generate still works."""
    fake_server.responder = proposal_reply
    text = ("name: fresh\nprofiles:\n  - id: cat\n    system_prompt: Answer as a cat.\nmodels:\n"
            "  - id: fake\n    provider: vllm\n    model: fake-model\n"
            f"    base_url: {fake_server.base_url}\n")
    document = Document(parse_prototype(text), tmp_path / "fresh.yaml")
    dialog = GenerateDialog(document, Services())
    qtbot.addWidget(dialog)
    dialog.show()
    try:
        assert "cases are written from the system prompts" in dialog.coverage.text()
        assert dialog.generate_button.isEnabled() and dialog.rules.count() == 1
        _pick_fake(dialog)
        dialog.count.setValue(2)
        with qtbot.waitSignal(dialog.sig_finished, timeout=30_000):
            dialog.generate_button.click()
        assert dialog.proposals.count() == 2
        sent = [r for r in fake_server.chat_requests() if "Answer as a cat." in json.dumps(r.body)]
        assert len(sent) == 2  # the system prompt is what the generator wrote from
        dialog.accept_all_button.click()
        assert len(document.proto.cases) == 2 and all(c.probes == [] for c in document.proto.cases)
    finally:
        dialog.shutdown()
        dialog.services.close()


def test_a_slow_model_shows_the_seconds_it_has_been_asked_for(
    qtbot, dialog: GenerateDialog, fake_server: FakeOpenAI
) -> None:
    """The bundled model wrote nothing for two minutes under load while the dialog said "Starting…"."""
    release = threading.Event()

    def slow(rec: Recorded) -> Reply:
        release.wait(20)
        return proposal_reply(rec)

    fake_server.responder = slow
    _pick_fake(dialog)
    dialog.count.setValue(1)
    dialog.generate_button.click()
    try:
        qtbot.waitUntil(lambda: "0 of 1 received · 1 s" in dialog.status.text(), timeout=10_000)
    finally:
        release.set()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.status.text() == "1 new proposal(s)"  # the seconds go once it ended
