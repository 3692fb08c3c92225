"""Issue 10 through the real window: ratings stay with their answers, edits show as out of date,
ticks are remembered per user and file, and the GUI stores a run exactly as `protostudio run` does."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fakeserver import FakeOpenAI, Reply
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.cli import main as cli_main
from app.core.document import load_prototype, to_data

TIMEOUT = 20_000
KEY = ("c1", "p1", "fake")


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)


def run_all(qtbot, window, *, bypass_cache: bool = False) -> None:
    modifiers = Qt.KeyboardModifier.ControlModifier
    if bypass_cache:
        modifiers |= Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(window, Qt.Key.Key_Return, modifiers)
    wait_idle(qtbot, window)


def test_rate_then_rerun_from_the_cache_keeps_the_rating_shown(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    run_all(qtbot, window)
    cell = window.grid.cells[KEY]
    rated = cell.run
    qtbot.mouseClick(cell.up, Qt.MouseButton.LeftButton)
    assert cell.up.isChecked()
    requests, runs = len(fake_server.chat_requests()), len(window.document.proto.runs)
    run_all(qtbot, window)  # every cell answered from the cache
    assert len(fake_server.chat_requests()) == requests
    assert len(window.document.proto.runs) == runs  # the file gains nothing
    assert cell.run is rated and cell.up.isChecked() and "live" in cell.status.text()
    window.file_ops.save_sync()
    reopened = make_window(proto_file)
    again = reopened.grid.cells[KEY]
    assert again.run is not None and again.run.id == rated.id and again.up.isChecked()


def test_a_fresh_answer_becomes_current_and_the_rated_one_stays_reachable(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    run_all(qtbot, window)
    cell = window.grid.cells[KEY]
    rated = cell.run
    qtbot.mouseClick(cell.down, Qt.MouseButton.LeftButton)
    fake_server.default = Reply(text="A different answer.")
    run_all(qtbot, window, bypass_cache=True)
    assert cell.run is not rated and not cell.down.isChecked()
    assert cell.status.text().startswith("2 of 2 · ") and cell.older.isVisible()
    qtbot.mouseClick(cell.older, Qt.MouseButton.LeftButton)
    assert cell.run is rated and cell.down.isChecked() and cell.status.text().startswith("1 of 2 · ")


def test_a_rating_stays_visible_after_a_follow_up(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    run_all(qtbot, window)
    cell = window.grid.cells[KEY]
    qtbot.mouseClick(cell.up, Qt.MouseButton.LeftButton)
    window.controller.continue_case("c1", "And then?", [("p1", "fake")])
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
    assert cell.status.text().startswith("reply 2")
    assert "rated 👍" in cell.view.toPlainText()


def test_editing_a_profile_marks_its_cells_out_of_date(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    run_all(qtbot, window)
    assert not any(cell.stale for cell in window.grid.cells.values())
    qtbot.mouseClick(window.grid.cells[KEY].up, Qt.MouseButton.LeftButton)
    window.document.proto.profile("p1").system_prompt = "You are someone else."
    window.document.structure_edited()  # what the profile editor calls after an edit
    for key, cell in window.grid.cells.items():
        assert cell.stale == (key[1] == "p1"), key
        assert cell.status.text().startswith("out of date") == (key[1] == "p1"), key
    results = window.extra["Results"]
    qtbot.waitUntil(lambda: "2 answers out of date" in results.status_label.text(), timeout=TIMEOUT)


def test_ticked_items_are_kept_per_user_and_file(qtbot, make_window, proto_file: Path) -> None:
    window = make_window(proto_file)
    window.selection.set_shown("profiles", "p2", False)
    window.selection.set_shown("cases", "c1", False)
    window.close()
    reopened = make_window(proto_file, fake_only=False)
    proto = reopened.document.proto
    assert reopened.selection.shown(proto, "profiles") == ["p1"]
    assert reopened.selection.shown(proto, "cases") == ["c2"]
    assert not reopened.document.dirty  # ticks live outside the shared prototype


def _normalized(path: Path) -> dict[str, Any]:
    """The file's data with what differs between any two runs (ids, times, timings) taken out."""
    data = to_data(load_prototype(path))
    runs = []
    for run in data.get("runs", []):
        runs.append({k: v for k, v in run.items() if k not in ("id", "created", "ttft_ms", "latency_ms")})
    data["runs"] = sorted(runs, key=lambda r: (r["case"], r["profile"], r["model"]))
    return data


def test_the_gui_and_the_cli_store_the_same_run_the_same_way(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI, tmp_path: Path
) -> None:
    cli_file = tmp_path / "cli.yaml"
    shutil.copy(proto_file, cli_file)
    window = make_window(proto_file)
    run_all(qtbot, window, bypass_cache=True)
    window.file_ops.save_sync()
    assert cli_main(["run", str(cli_file), "--model", "fake", "--no-cache"]) == 0
    gui, cli = _normalized(proto_file), _normalized(cli_file)
    assert len(gui["runs"]) == 4
    assert gui == cli


def test_a_renamed_model_shows_its_new_name_at_once(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    run_all(qtbot, window)
    cell = window.grid.cells[KEY]
    assert cell.status.text().startswith("Fake · ")
    window.document.proto.model("fake").name = "Renamed"
    window.document.structure_edited()  # what the navigator's rename calls
    assert cell.status.text().startswith("Renamed · ")
    assert any("Renamed" in header.text() for header in window.grid._headers)
