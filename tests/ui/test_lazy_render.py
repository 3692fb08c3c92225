"""Finished answers render lazily (one per event-loop turn, on-screen cells only), and the live view
cuts a long streamed paragraph without moving any text: the UI-stall work of issue 15."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Reply
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

from app.core.prototype import Message, Run
from app.ui.cell_widget import CellWidget
from app.ui.markdown_view import LIVE_BLOCK_CHARS, SafeTextBrowser
from app.ui.previews.chat import ChatPreview
from app.ui.render_queue import RenderQueue, render_queue

TIMEOUT = 20_000
ANSWER = "Here is **the plan**:\n\n- first step\n- second step\n\nThat is all, " + "word " * 300


def a_run(n: int = 1, output: str = ANSWER) -> Run:
    return Run(id=f"r{n}", created="2026-11-30T00:00:00", profile="p", model="m", case="c",
               messages=[Message(role="user", content=f"Question {n}?")], output=output)


def streamed_then_finished(cell: CellWidget, run: Run) -> None:
    """What the grid does for a cell: stream the answer in pieces, then show the finished thread lazily."""
    cell.begin_stream([], None, cached=False)
    for start in range(0, len(run.output), 97):
        cell.append_text(run.output[start:start + 97])
    cell.show_thread([run], lazy=True)


def bubbles(cell: CellWidget) -> list[str]:
    preview = cell.body.current_preview()
    assert isinstance(preview, ChatPreview)
    return preview.bubble_texts()


def test_a_finished_cell_keeps_its_streamed_text_then_renders_its_preview(qtbot) -> None:
    cell = CellWidget(("c", "p", "m"), "fake")
    qtbot.addWidget(cell)
    cell.show()
    qtbot.waitExposed(cell)
    run = a_run()
    streamed_then_finished(cell, run)
    assert cell.body.pending and cell.body.current_preview() is None  # the streamed text is still up
    assert "live" in cell.status.text() and cell.up.isEnabled()  # status and rating: at once
    qtbot.waitUntil(lambda: not cell.body.pending, timeout=TIMEOUT)
    assert cell.body.renders == 1
    # the same bubbles as a cell that rendered the thread at once (nothing lost, same order)
    eager = CellWidget(("c", "p", "m"), "fake")
    qtbot.addWidget(eager)
    eager.show_thread([run])
    assert bubbles(cell) == bubbles(eager)
    assert bubbles(cell)[0] == "Question 1?" and "the plan" in bubbles(cell)[1]


def test_pressing_r_on_a_cell_waiting_for_its_render_shows_the_rendered_text(qtbot) -> None:
    cell = CellWidget(("c", "p", "m"), "fake")
    qtbot.addWidget(cell)
    cell.show()
    streamed_then_finished(cell, a_run())
    assert cell.body.pending
    cell.key_raw()  # r: the text, rendered, with the toggle back to the preview
    assert not cell.body.pending and cell.body.bar.isVisible()
    assert "**" not in cell.view.document().toPlainText()
    cell.key_raw()
    assert "the plan" in bubbles(cell)[1]


def test_the_text_view_behind_a_preview_renders_when_shown(qtbot) -> None:
    cell = CellWidget(("c", "p", "m"), "fake")
    qtbot.addWidget(cell)
    cell.show()
    cell.show_thread([a_run()])
    assert cell.body.showing_preview() and cell.view.has_pending_markdown()
    cell.key_raw()  # r: the text
    assert not cell.view.has_pending_markdown()
    text = cell.view.document().toPlainText()
    assert "the plan" in text and "**" not in text  # rendered markdown, not the raw text


def test_off_screen_cells_render_only_when_scrolled_to(qtbot) -> None:
    area = QScrollArea()
    qtbot.addWidget(area)
    column = QWidget()
    layout = QVBoxLayout(column)
    cells = [CellWidget(("c", f"p{n}", "m"), "fake") for n in range(6)]
    for cell in cells:
        layout.addWidget(cell)
    area.setWidget(column)
    area.resize(360, 340)  # about one cell high
    area.show()
    qtbot.waitExposed(area)
    for n, cell in enumerate(cells):
        streamed_then_finished(cell, a_run(n))
    qtbot.waitUntil(lambda: not cells[0].body.pending, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: render_queue().waiting() == 0, timeout=TIMEOUT)
    assert all(cell.body.pending for cell in cells[2:])  # never on screen: not rendered
    area.ensureWidgetVisible(cells[-1])
    qtbot.waitUntil(lambda: not cells[-1].body.pending, timeout=TIMEOUT)
    assert "Question 5?" in bubbles(cells[-1])


def test_the_queue_gives_the_event_loop_a_turn_between_renders(qtbot) -> None:
    queue = RenderQueue()
    owners = [QWidget() for _ in range(3)]
    seen: list[str] = []

    def render(name: str) -> None:
        seen.append(name)
        QTimer.singleShot(0, lambda: seen.append(f"after {name}"))  # other work posted meanwhile

    for n, owner in enumerate(owners):
        queue.request(owner, lambda n=n: render(f"render {n}"))
    queue.request(owners[0], lambda: render("again"))  # a second request keeps the first's place
    qtbot.waitUntil(lambda: queue.done == 3 and len(seen) == 6, timeout=TIMEOUT)
    assert seen == ["render 0", "after render 0", "render 1", "after render 1", "render 2", "after render 2"]


def test_a_long_streamed_paragraph_is_cut_where_lines_already_wrap(qtbot) -> None:
    view = SafeTextBrowser()
    qtbot.addWidget(view)
    view.resize(300, 250)
    view.show()
    qtbot.waitExposed(view)
    text = "".join(f"w{n % 97} " for n in range(3000))
    view.begin_stream()
    for start in range(0, len(text), 40):
        view.append_stream(text[start:start + 40])
    document = view.document()
    blocks = [document.findBlockByNumber(i) for i in range(document.blockCount())]
    assert len(blocks) > 5 and all(b.length() <= LIVE_BLOCK_CHARS + 40 for b in blocks)
    assert "".join(b.text() for b in blocks) == text  # nothing lost or added but the block breaks
    whole = SafeTextBrowser()  # the same text as one paragraph, laid out at the same width
    qtbot.addWidget(whole)
    whole.resize(300, 250)
    whole.show()
    whole.setPlainText(text)
    qtbot.waitUntil(lambda: whole.document().firstBlock().layout().lineCount() > 0)
    assert _lines(view) == _lines(whole)  # cut at wraps: every line as before


def _lines(view: SafeTextBrowser) -> list[str]:
    """The text of each laid-out line, as the reader sees it."""
    found: list[str] = []
    block = view.document().firstBlock()
    while block.isValid():
        layout = block.layout()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            found.append(block.text()[line.textStart():line.textStart() + line.textLength()].rstrip())
        block = block.next()
    return found


def test_a_run_in_the_window_ends_rendered(qtbot, make_window, proto_file: Path,
                                           fake_server: FakeOpenAI) -> None:
    fake_server.default = Reply(text="Purr, **purr**. " * 60, tokens_per_s=400)
    window = make_window(proto_file)
    window.run_grid(True)
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)
    on_screen = [c for c in window.grid.cells.values() if not c.body.visibleRegion().isEmpty()]
    assert on_screen
    qtbot.waitUntil(lambda: all(not c.body.pending and c.body.showing_preview() for c in on_screen),
                    timeout=TIMEOUT)
    for cell in on_screen:
        assert bubbles(cell)[-1].count("Purr, purr.") == 60


def test_a_drain_gives_text_to_a_few_cells_per_turn_in_order(qtbot) -> None:
    from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn
    from app.engine.events import Cell, CellDelta, CellFinished
    from app.ui.document_model import Document
    from app.ui.run_controller import TEXTS_PER_TURN, RunController
    from app.ui.services import Services

    proto = Prototype(name="t", profiles=[Profile(id=f"p{n}") for n in range(12)],
                      models=[ModelTarget(id="m", provider="vllm", model="x", base_url="http://127.0.0.1:9/v1")],
                      cases=[Case(id="c", turns=[Turn(content="Go")])])
    controller = RunController(Document(proto), Services())
    seen: list[tuple[str, str]] = []
    controller.sig_cell_text.connect(lambda cell, text: seen.append((cell.profile, text)))
    controller.sig_cell_ended.connect(lambda cell, _run: seen.append((cell.profile, "ended")))
    cells = [Cell("c", f"p{n}", "m") for n in range(12)]
    sink = controller._sink_for(controller._epoch)  # what the engine thread calls
    for cell in cells:
        sink(CellDelta(cell, "a"))
    run = Run(id="r0", created="2026-11-30T00:00:00", profile="p0", model="m", case="c", output="ab")
    sink(CellDelta(cells[0], "b"))
    sink(CellFinished(cells[0], run))
    controller._drain()  # the frame timer's slot
    assert len(seen) == TEXTS_PER_TURN < 12  # the rest waits for the next turns of the loop
    qtbot.waitUntil(lambda: len(seen) == 13, timeout=TIMEOUT)
    # the same order as delivering all at once: a cell's text is flushed just before its end
    assert seen == [*((f"p{n}", "a") for n in range(1, 12)), ("p0", "ab"), ("p0", "ended")]
