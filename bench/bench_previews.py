"""What a form-factor preview costs on the GUI thread when a cell shows a finished answer.

For each form factor, times `CellWidget.show_thread` (text view + preview, what the grid does when
a cell ends) against the text view alone (`SafeTextBrowser.show_markdown`, the cost before
previews), on a typical answer (~600 characters with a list and a link) and a long one (~20 KB).
Prints the median of N renders per case and the ratio to the text view.

    QT_QPA_PLATFORM=offscreen python bench/bench_previews.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.prototype import Message, Run, ToolCall  # noqa: E402

TYPICAL = (
    "Here's a plan for the **launch**:\n\n- Write the post\n- Record a demo, see "
    "[the guide](https://example.com/guide)\n- Tell the team\n\n"
    + "Offline mode lets people keep working on a train or a plane, and syncs when they are back. " * 4
)
LONG = ("## Section\n\n" + "A sentence of a long document that keeps going for a while. " * 30 + "\n\n") * 18


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from app.ui.cell_widget import CellWidget
    from app.ui.markdown_view import SafeTextBrowser
    from app.ui.previews import PreviewContext
    from app.ui.previews.speech import SpeechPlayer, set_shared_player

    set_shared_player(SpeechPlayer(program=""))
    print(f"{'answer':8} {'form factor':13} {'median ms':>9} {'x text view':>11}")
    for name, text in (("typical", TYPICAL), ("long", LONG)):
        view = SafeTextBrowser()
        view.resize(290, 220)
        view.show()
        base = _median(lambda t=text, v=view: v.show_markdown(t), args.repeat)
        print(f"{name:8} {'(text view)':13} {base:9.2f} {1:11.2f}")
        for form_factor in ("chat", "canvas", "voice", "notification"):
            cell = CellWidget(("c", "p", "m"), "Model")
            cell.set_preview_context(PreviewContext(form_factor, "App", "Title"))
            cell.show()
            calls = [ToolCall(name="open_canvas", arguments='{"title": "Doc", "content": "# Doc\\n\\nBody"}')]
            runs = [
                Run(id=f"r{i}", created="2026-11-30T00:00:00Z", profile="p", model="m", case="c",
                    messages=[Message(role="user", content="Plan the launch")], output=text,
                    tool_calls=calls if form_factor == "canvas" else [])
                for i in range(2)
            ]
            counter = iter(range(10**9))
            ms = _median(lambda c=cell, r=runs, k=counter: c.show_thread([r[next(k) % 2]]), args.repeat)
            print(f"{name:8} {form_factor:13} {ms:9.2f} {ms / base:11.2f}")
            cell.close()
            app.processEvents()
    return 0


def _median(fn: object, repeat: int) -> float:
    """Median ms of `fn()` plus the event processing it causes (layout, paint)."""
    assert callable(fn)
    app = QApplication.instance()
    assert app is not None
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        app.processEvents()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call (see the report
    # in bench/README.md); a run of thousands of calls then aborts in the interpreter's final GC.
    os._exit(code)
