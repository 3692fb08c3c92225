"""Fixes from the second new-designer walk-through (4 x 3 x 5, simulated users, form factors)."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Reply

from app.core.costs import batch_cost


def test_a_run_where_no_call_was_billed_shows_no_cost_question_mark(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    """"cost ?" read as a price problem when nothing was billed (every call failed, or none ended)."""
    fake_server.default = Reply(status=500, message="the server is down")
    window = make_window(proto_file)
    window.run_grid(False)
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=30_000)
    qtbot.waitUntil(lambda: window.progress.text().startswith("Last run: 0 done, 4 failed"))
    assert "cost" not in window.progress.text()
    assert batch_cost(None, 1) == "cost ?" and batch_cost(0.0, 0) == "free"  # priced or unpriced answers
