"""The Evals tab at real size: reasons in a filterable table, splitters, names not ids, progress."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from evals_kit import PROTO
from fakeserver import FakeOpenAI

from app.core.document import parse_prototype
from app.core.prototype import AssertionResult, EvalResult, EvalRun
from app.engine.evals import EvalProgress
from app.ui.document_model import Document
from app.ui.evals_panel import EvalsPanel


@pytest.fixture
def document(scripted: FakeOpenAI, tmp_path: Path) -> Document:
    proto = parse_prototype(PROTO.format(base_url=scripted.base_url))
    proto.model("fake").name = "Fast fake"
    proto.profile("plain").name = "Plain sentence"
    return Document(proto, tmp_path / "p.yaml")


@pytest.fixture
def panel(qtbot, document: Document) -> Iterator[EvalsPanel]:
    widget = EvalsPanel(document)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def test_run_shows_names_reasons_and_progress(qtbot, panel: EvalsPanel, document: Document) -> None:
    panel.show()
    seen: list[str] = []
    panel.progress.valueChanged.connect(lambda _v: seen.append(panel.status.text()))
    with qtbot.waitSignal(panel.sig_finished, timeout=60_000):
        panel.run_button.click()
    assert any("Grading" in s and "% passed so far" in s and s.endswith(" s") for s in seen)
    assert not panel.progress.isVisible()
    headers = [panel.matrix.horizontalHeaderItem(c).text() for c in range(panel.matrix.columnCount())]
    assert "Plain sentence × Fast fake" in headers and not any("plain ×" in h for h in headers)
    reasons = panel.reasons
    assert reasons.table.rowCount() == len(reasons.rows) > 0
    variants = {reasons.table.item(r, 1).text() for r in range(reasons.table.rowCount())}
    assert "Plain sentence × Fast fake" in variants
    reasons.filter.setText("fast BULLET")
    shown = reasons.shown_rows()
    assert shown and all("Fast fake" in r.variant and "bullet" in r.reason for r in shown)
    assert reasons.table.rowCount() == len(shown) < len(reasons.rows)
    assert reasons.count.text() == f"{len(shown)} of {len(reasons.rows)}"


def test_many_reasons_never_grow_the_window(qtbot, panel: EvalsPanel, document: Document) -> None:
    """Hundreds of failures scroll inside their table; the panel keeps the height it was given."""
    results = [
        EvalResult(case="colors", profile="plain", model="fake", passed=False, score=0.0, assertions=[
            AssertionResult(type="bullet-count", passed=False, score=0, reason=f"reason {n} " * 20,
                            key="assert[0]"),
        ])
        for n in range(400)
    ]
    run = EvalRun(id="e1", created="2026-01-01T00:00:00Z", pass_rate=0.0, results=results)
    document.proto.evals.append(run)
    panel.resize(1200, 700)
    panel.show()
    panel.refresh_results()
    qtbot.waitUntil(lambda: panel.reasons.table.rowCount() == 400)
    assert panel.minimumSizeHint().height() < 600
    assert panel.height() == 700
    assert len(panel.splitter.sizes()) == 3 and all(s > 0 for s in panel.splitter.sizes())


def test_progress_counts_passes_while_grading(qtbot, panel: EvalsPanel) -> None:
    panel._runner = object()  # type: ignore[assignment]  (a run in flight, as far as the view knows)
    panel.on_progress(EvalProgress("grade", 4, 8, 3))
    assert panel.progress.value() == 4 and panel.progress.maximum() == 8
    assert "75% passed so far" in panel.status.text()
    panel._done()
    assert not panel.progress.isVisible()
