"""Model output is untrusted: HTML, remote images and a 1 MB answer must not fetch anything or freeze."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI, Reply
from PySide6.QtCore import QUrl

from app.ui.markdown_view import RENDER_LIMIT, SafeTextBrowser, strip_images

TIMEOUT = 60_000


def test_html_and_remote_images_are_never_fetched(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    with FakeOpenAI() as tracker:
        base = f"http://127.0.0.1:{tracker.port}"
        fake_server.default = Reply(
            text=(
                f'# Title\n\n<b>bold?</b> <img src="{base}/html.png"> <script>alert(1)</script>\n\n'
                f"![a cat]({base}/md.png) and [a link]({base}/link) and ![ref][r]\n\n[r]: {base}/ref.png\n"
                f'<iframe src="{base}/frame"></iframe> <link rel="stylesheet" href="{base}/style.css">'
            )
        )
        window = make_window(proto_file)
        window.run_grid(False)
        qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)
        cell = window.grid.cells[("c1", "p1", "fake")]
        text = cell.view.toPlainText()
        assert "[image: a cat]" in text and "[image: ref]" in text
        assert "<b>bold?</b>" in text  # raw HTML is shown as text, not interpreted
        assert "<script>" in text
        cell.view.resize(600, 800)
        cell.view.grab()  # layout and paint everything: still nothing may be loaded
        qtbot.wait(300)
        assert tracker.requests == []


def test_text_browser_refuses_every_resource(qtbot) -> None:
    view = SafeTextBrowser()
    qtbot.addWidget(view)
    assert view.loadResource(2, QUrl("http://127.0.0.1:9/x.png")) is None
    assert view.loadResource(2, QUrl("file:///etc/passwd")) is None
    assert strip_images("![x](http://a/b.png) ok") == "[image: x] ok"


def test_a_one_megabyte_answer_is_capped_in_the_cell(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    big = ("lorem" * 200 + "\n") * 1_000  # ~1 MB, in 1,000 tokens of 1 KB (the fake server splits at spaces)
    fake_server.default = Reply(text=big)
    window = make_window(proto_file)
    window.run_grid(False)
    qtbot.waitUntil(lambda: not window.starting and not window.controller.busy, timeout=TIMEOUT)
    cell = window.grid.cells[("c1", "p1", "fake")]
    assert len(cell.run.output) == len(big)  # everything is saved
    shown = cell.view.toPlainText()
    assert len(shown) < RENDER_LIMIT + 500  # ...but only the start is laid out
    assert "the full answer is saved" in shown
    assert cell.up.isEnabled()
