"""Provider faults in the app: every fault stays in its own cell, with a clear message; the healthy
cells finish; Stop ends the one that hangs; the GUI thread never stalls meanwhile.

One grid, one model target (column) per fault, all at once against `tests/fakeserver.py`: 429,
500, a stream cut mid-answer, a request that hangs, a rejected key (401), garbage instead of SSE,
a huge answer and a slow drip, next to a healthy target. (Faults are accounted per target: on ONE
target a 429 halves its limit and a hang then holds what is left, so that target's other cells
wait, by design; see `tests/engine/test_fault_isolation.py`.)
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI, Recorded, Reply
from PySide6.QtCore import QTimer

from app.core.document import save_prototype
from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn

TIMEOUT = 30_000
HUGE = "word " * 60_000

FAULTS: dict[str, Reply] = {
    "ok": Reply(text="A healthy answer."),
    "rate": Reply(status=429, code="rate_limit_exceeded", message="Rate limit reached", retry_after=0.1),
    "server": Reply(status=500, code="server_error", message="The server had an error"),
    "cut": Reply(text="Half an answer that never ends", fault="cut", cut_after=3),
    "hang": Reply(fault="hang"),
    "key": Reply(status=401, code="invalid_api_key", message="Incorrect API key provided"),
    "garbage": Reply(text="never parsed", fault="malformed"),
    "huge": Reply(text=HUGE),
    "drip": Reply(text="drip " * 12, tokens_per_s=8),
}
"""Case id -> how the server answers it."""


def _respond(rec: Recorded) -> Reply:
    return FAULTS[str((rec.body or {}).get("model"))]


@pytest.fixture
def faults_file(tmp_path: Path, fake_server: FakeOpenAI) -> Path:
    fake_server.responder = _respond
    proto = Prototype(
        name="faults", profiles=[Profile(id="p1", system_prompt="Answer.")],
        models=[ModelTarget(id=name, provider="vllm", model=name, base_url=fake_server.base_url)
                for name in FAULTS],
        cases=[Case(id="c1", turns=[Turn(content="Hello?")])])
    path = tmp_path / "faults.yaml"
    save_prototype(proto, path)
    return path


class _Heartbeat:
    """A 20 ms timer on the GUI thread; the longest gap between its ticks is how long the GUI froze."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._last = time.monotonic()
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self._last)
        self._last = now


def test_each_fault_stays_in_its_cell_and_stop_ends_the_hang(qtbot, make_window, faults_file: Path) -> None:
    window = make_window(faults_file, fake_only=False)
    for name in FAULTS:
        window.selection.set_shown("models", name, True)
    cells = {key[2]: cell for key, cell in window.grid.cells.items()}
    assert sorted(cells) == sorted(FAULTS)
    beat = _Heartbeat()
    window.run_grid(False)

    def ended(name: str) -> bool:
        return cells[name].run is not None and not window.controller.is_running(cells[name].key)

    others = [name for name in FAULTS if name != "hang"]
    qtbot.waitUntil(lambda: all(ended(name) for name in others), timeout=TIMEOUT)
    assert window.controller.busy  # the hang is still out

    texts = {name: (cells[name].run.status, cells[name].error.isVisible(), cells[name].error.text())
             for name in others}
    assert texts["ok"][:2] == ("ok", False) and "A healthy answer." in cells["ok"].view.toPlainText()
    assert texts["huge"][:2] == ("ok", False)
    assert texts["drip"][:2] == ("ok", False) and "drip" in cells["drip"].view.toPlainText()
    for name, words in {"rate": ("rate", "429"), "server": ("500", "server"), "key": ("key", "401"),
                        "cut": ("kept",), "garbage": ()}.items():
        status, visible, message = texts[name]
        assert status in ("error", "cut") and visible and message.strip(), (name, texts[name])
        assert any(w.lower() in message.lower() for w in words) or not words, (name, message)
        assert "Traceback" not in message
    assert "Half an" in cells["cut"].view.toPlainText()

    window.act_stop.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
    hang = cells["hang"]
    # before: the stopped cell went blank, as if it had never run
    assert hang.error.isVisible() and "Stopped" in hang.error.text()
    assert "nothing was stored" in hang.error.text()
    assert "A healthy answer." in cells["ok"].view.toPlainText()  # the stop touched no finished cell
    beat.timer.stop()
    assert beat.longest < 2.0, f"the GUI thread froze for {beat.longest:.2f} s"
