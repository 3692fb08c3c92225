"""The Generate cases dialog: proposed checks with a box each, and proposals bound to their file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from casegen.kit import PROTO, TOPICS, rule_of, seed_of
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.document import parse_prototype
from app.ui.document_model import Document
from app.ui.generate_dialog import GenerateDialog
from app.ui.services import Services

CHECKS = [
    {"type": "not-icontains", "value": "stupid"},
    {"type": "max-words", "value": "80"},
    {"type": "regex", "value": "(unclosed"},
]


def _reply(rec: Recorded) -> Reply:
    topic = TOPICS[seed_of(rec) % len(TOPICS)]
    return Reply(text=json.dumps({"description": f"checks {rule_of(rec)}",
                                  "user_message": f"Tell me about {topic}.", "checks": CHECKS}))


@pytest.fixture
def document(fake_server: FakeOpenAI, tmp_path: Path) -> Document:
    fake_server.responder = _reply
    return Document(parse_prototype(PROTO.format(base_url=fake_server.base_url)), tmp_path / "first.yaml")


@pytest.fixture
def dialog(qtbot, document: Document) -> Iterator[GenerateDialog]:
    widget = GenerateDialog(document, Services())
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()
    widget.services.close()


def _generate(qtbot, dialog: GenerateDialog, count: int = 2) -> None:
    dialog.model.setCurrentIndex(dialog.model.findData("fake"))
    dialog.count.setValue(count)
    with qtbot.waitSignal(dialog.sig_finished, timeout=30_000):
        dialog.generate_button.click()
    assert dialog.proposals.count() == count


def test_proposed_checks_show_with_a_box_each_and_only_ticked_ones_are_written(
    qtbot, dialog: GenerateDialog, document: Document
) -> None:
    _generate(qtbot, dialog)
    dialog.proposals.setCurrentRow(0)
    assert [dialog.checks.item(i).text() for i in range(dialog.checks.count())] == [
        'not-icontains "stupid"', "max-words 80"]
    assert dialog.dropped_checks.isVisible() and "invalid regular expression" in dialog.dropped_checks.text()
    dialog.set_check(1, False)
    dialog.proposals.setCurrentRow(1)  # ticks are kept per proposal
    dialog.proposals.setCurrentRow(0)
    assert dialog.checks.item(1).checkState().name == "Unchecked"
    dialog.accept_button.click()
    dialog.accept_all_button.click()
    first, second = document.proto.cases[-2:]
    assert [(a.type, a.value) for a in first.assert_] == [("not-icontains", "stupid")]
    assert [a.type for a in second.assert_] == ["not-icontains", "max-words"]


def test_proposals_are_not_accepted_into_another_file_opened_meanwhile(
    qtbot, dialog: GenerateDialog, document: Document, fake_server: FakeOpenAI, tmp_path: Path
) -> None:
    _generate(qtbot, dialog)
    first = document.proto
    other = parse_prototype(PROTO.format(base_url=fake_server.base_url))
    document.replace(other, tmp_path / "second.yaml")  # File › Open of another file
    assert not dialog.bound
    assert not dialog.accept_button.isEnabled() and not dialog.accept_all_button.isEnabled()
    note = dialog.bound_note.text()
    assert dialog.bound_note.isVisible() and "first.yaml" in note and "second.yaml" in note
    before = len(other.cases)
    dialog.accept_all()  # even called directly (a shortcut), nothing is written
    dialog.proposals.setCurrentRow(0)
    dialog.accept_current()
    assert len(other.cases) == before and len(first.cases) == 1 and dialog.proposals.count() == 2
    dialog.proposals.setCurrentRow(0)
    dialog.reject_button.click()
    dialog.reject_button.click()
    assert dialog.bound and not dialog.bound_note.isVisible()  # nothing left: bound to the open file
    _generate(qtbot, dialog)
    dialog.accept_all_button.click()
    assert len(other.cases) == before + 2


def test_save_as_keeps_the_binding_and_generate_again_starts_afresh(
    qtbot, dialog: GenerateDialog, document: Document, fake_server: FakeOpenAI, tmp_path: Path
) -> None:
    _generate(qtbot, dialog)
    document.mark_saved(tmp_path / "renamed.yaml")  # same prototype, new name
    assert dialog.bound and dialog.accept_all_button.isEnabled()
    document.replace(parse_prototype(PROTO.format(base_url=fake_server.base_url)), None)  # File › New
    assert not dialog.bound and "renamed.yaml" in dialog.bound_note.text()
    _generate(qtbot, dialog)  # the old proposals are let go; the new ones belong to the open file
    assert dialog.bound and dialog.accept_all_button.isEnabled()
