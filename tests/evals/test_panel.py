"""The Evals panel with pytest-qt: editing assertions, reviewing proposals, running on the fake server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from evals_kit import PROTO
from fakeserver import FakeOpenAI
from PySide6.QtCore import Qt

from app.core.document import parse_prototype
from app.core.prototype import Rating, Run
from app.ui.document_model import Document
from app.ui.evals_panel import EvalsPanel
from app.ui.services import Services


@pytest.fixture
def document(scripted: FakeOpenAI, tmp_path: Path) -> Document:
    return Document(parse_prototype(PROTO.format(base_url=scripted.base_url)), tmp_path / "p.yaml")


@pytest.fixture
def panel(qtbot, document: Document) -> Iterator[EvalsPanel]:
    widget = EvalsPanel(document)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def test_run_shows_the_matrix_with_reasons(qtbot, panel: EvalsPanel, document: Document) -> None:
    panel.baseline.setChecked(True)
    with qtbot.waitSignal(panel.sig_finished, timeout=60_000):
        panel.run_button.click()
        assert panel.running and not panel.run_button.isEnabled()  # the GUI thread is not blocked
    assert not panel.running
    assert panel.matrix.cell_passed("colors", "bullets × fake") is True
    assert panel.matrix.cell_passed("colors", "plain × fake") is False
    assert panel.matrix.cell_passed("fruits", "baseline × fake") is True
    headers = [panel.matrix.horizontalHeaderItem(c).text() for c in range(panel.matrix.columnCount())]
    assert headers == [
        "bullets × fake",
        "bullets × judge",
        "plain × fake",
        "plain × judge",
        "baseline × fake",
        "baseline × judge",
    ]
    cell = panel.matrix.item(0, headers.index("plain × fake"))
    assert "has 0 bullet points, expected exactly 3" in cell.toolTip()
    assert len(document.proto.evals) == 1 and document.dirty
    assert len(document.proto.runs) == 8  # 2 profiles × 2 models × 2 cases; baselines are not stored as runs
    assert panel.chart.rates == [document.proto.evals[0].pass_rate]
    labels = [panel.assertion_table.item(r, 0).text() for r in range(panel.assertion_table.rowCount())]
    assert "colors: bullet-count 3" in labels
    disc = {labels[r]: panel.assertion_table.item(r, 3).text() for r in range(len(labels))}
    assert disc["colors: bullet-count 3"] == "100%"  # the baseline fails wherever the prototype passes
    assert "not discriminating" in disc['fruits: icontains "apple"']
    assert "Pass rate" in panel.status.text()


def test_editing_assertions_writes_through_and_flags_mistakes(panel: EvalsPanel, document: Document) -> None:
    editor = panel.editor
    editor.select_scope("colors")
    assert editor.table.rowCount() == 1 and editor.table.item(0, 1).text() == "3"
    editor.table.item(0, 1).setText("4")
    assert document.proto.case("colors").assert_[0].value == 4 and document.dirty
    editor.table.item(0, 0).setText("bulet-count")
    assert document.proto.case("colors").assert_[0].type == "bulet-count"  # kept, so nothing typed is lost
    assert "did you mean 'bullet-count'" in editor.problem.text()
    editor.table.item(0, 2).setText("heavy")
    assert "weight must be a number" in editor.problem.text()
    assert document.proto.case("colors").assert_[0].weight == 1.0
    editor.select_scope("default_assert")
    editor.add_assertion()
    assert document.proto.default_assert[-1].type == "contains"
    editor.table.selectRow(editor.table.rowCount() - 1)
    editor.remove_selected()
    assert len(document.proto.default_assert) == 1


def test_proposals_are_reviewed_before_they_are_added(panel: EvalsPanel, document: Document) -> None:
    document.proto.runs.append(
        Run(
            id="r1",
            created="2026-11-22T06:00:00Z",
            profile="bullets",
            model="fake",
            case="fruits",
            output="- apple\n- pear\n- plum",
            ratings=[Rating(thumb="up")],
        )
    )
    document.proto.runs.append(
        Run(
            id="r2",
            created="2026-11-22T06:00:00Z",
            profile="plain",
            model="fake",
            case="fruits",
            output="Fruit.",
            ratings=[Rating(thumb="down", note="Too short")],
        )
    )
    dialog = panel.propose()
    assert dialog is not None and len(dialog.proposals) == 3
    dialog.set_checked(0, True)
    dialog.set_checked(2, True)
    dialog.accept()
    added = document.proto.case("fruits").assert_[1:]
    assert [a.type for a in added] == ["similar", "llm-rubric"]
    assert "Too short" in str(added[1].value)
    assert panel.editor.scope.currentData() == "fruits" and panel.editor.table.rowCount() == 3
    cancelled = panel.propose()
    assert cancelled is not None and len(cancelled.proposals) == 1  # what was added is not proposed again
    cancelled.reject()
    assert len(document.proto.case("fruits").assert_) == 3


def test_main_window_signature_with_shared_services(qtbot, document: Document) -> None:
    services = Services()
    widget = EvalsPanel(document, services, None)
    qtbot.addWidget(widget)
    assert widget.services is services
    with qtbot.waitSignal(widget.sig_failed, timeout=30_000) as blocker:
        document.proto.default_assert.clear()
        for case in document.proto.cases:
            case.assert_.clear()
        widget.run_evals()
    assert "no case has assertions" in blocker.args[0]
    widget.shutdown()
    services.close()


def test_the_evals_tab_runs_only_the_ticked_variants(qtbot, document: Document) -> None:
    from app.ui.selection import Selection

    selection = Selection()
    selection.reset_for(document.proto, {"profiles": ["plain"], "models": ["judge"]})
    widget = EvalsPanel(document, None, selection)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.sig_finished, timeout=60_000) as blocker:
        widget.run_button.click()
    results = blocker.args[0].eval_run.results
    assert results and {(r.profile, r.model) for r in results} == {("bullets", "fake")}
    selection.set_shown("profiles", "bullets", False)
    with qtbot.waitSignal(widget.sig_failed, timeout=10_000) as failed:
        widget.run_button.click()
    assert "Tick at least one profile" in failed.args[0]
    widget.shutdown()


def test_the_check_scopes_read_in_words_not_yaml_keys(panel: EvalsPanel, document: Document) -> None:
    scope = panel.editor.scope
    texts = [scope.itemText(i) for i in range(scope.count())]
    assert texts[0] == "Checks for every case" and not any("default_assert" in t for t in texts)
    document.proto.case("fruits").description = "Three fruits, one must be an apple"
    panel.editor.reload_scopes()
    index = scope.findData("fruits")
    assert scope.itemText(index) == "Case: Three fruits, one must be an apple"
    assert scope.itemData(index, Qt.ItemDataRole.ToolTipRole) == "Case id: fruits"
