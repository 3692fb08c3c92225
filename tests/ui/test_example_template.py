"""A bundled example is a template: Save keeps a copy elsewhere and never overwrites the shipped file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.document import load_prototype
from app.ui import file_ops
from app.ui.resources import example_prototype, is_example

TIMEOUT = 20_000


def test_saving_the_bundled_example_asks_where_to_keep_a_copy(
    qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = example_prototype()
    assert example is not None and is_example(example)
    shipped = example.read_bytes()
    asked: list[str] = []
    copy = tmp_path / "my-copy.yaml"

    def pick(_parent, _caption, start, _filter):
        asked.append(start)
        return str(copy), ""

    monkeypatch.setattr(file_ops.QFileDialog, "getSaveFileName", staticmethod(pick))
    window = make_window(example, fake_only=False)
    assert "Example — Save will ask where to keep your copy" in window.windowTitle()
    window.document.proto.name = "My cat"
    window.document.structure_edited()
    assert window.document.dirty

    assert window.file_ops.save()
    qtbot.waitUntil(lambda: not window.document.dirty, timeout=TIMEOUT)
    assert len(asked) == 1
    suggested = Path(asked[0])
    assert suggested.name == example.name and suggested.is_relative_to(Path.home())
    assert not is_example(suggested)
    assert example.read_bytes() == shipped  # the template is untouched
    assert window.document.path == copy and load_prototype(copy).name == "My cat"
    assert "Example" not in window.windowTitle()

    window.document.proto.name = "My cat, again"
    window.document.structure_edited()
    window.file_ops.save()  # now an ordinary file: saved in place, no question
    qtbot.waitUntil(lambda: not window.document.dirty, timeout=TIMEOUT)
    assert len(asked) == 1 and load_prototype(copy).name == "My cat, again"


def test_closing_with_changes_to_the_example_saves_a_copy(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QWidget

    from app.core.document import parse_prototype
    from app.ui.document_model import Document
    from app.ui.message_bar import MessageBar
    from app.ui.ui_state import UiState

    example = example_prototype()
    assert example is not None
    shipped = example.read_bytes()
    copy = tmp_path / "closing-copy.yaml"
    asked: list[str] = []
    pick = staticmethod(lambda *a: asked.append(a[2]) or (str(copy), ""))
    monkeypatch.setattr(file_ops.QFileDialog, "getSaveFileName", pick)
    window = QWidget()
    qtbot.addWidget(window)
    document = Document(parse_prototype(shipped.decode("utf-8"), str(example)), example)
    ops = file_ops.FileOps(window, document, UiState(tmp_path / "state.json"), MessageBar(window))
    document.proto.name = "Changed"
    document.structure_edited()
    ops.ask_unsaved = lambda: "save"
    assert ops.confirm_discard()  # closing: "save" must not write into prototypes/
    assert len(asked) == 1 and Path(asked[0]).name == example.name
    assert example.read_bytes() == shipped
    assert load_prototype(copy).name == "Changed" and document.path == copy
