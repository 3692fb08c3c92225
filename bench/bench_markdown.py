"""What one model answer costs the GUI thread to lay out, with and without the formatting budget.

Run: PYTHONPATH=$PWD python bench/bench_markdown.py [--repeats 3]

For each answer shape, the wall seconds (median of R) to show it in a 220 px chat bubble (what the
grid shows; many are laid out together when a run lands) and in the text view (`r`), first with
the budget off (what the app did before `app/ui/markdown_budget.py`), then on. Offscreen Qt.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication

from app.ui import markdown_view
from app.ui.markdown_view import SafeTextBrowser
from app.ui.previews import chat
from app.ui.previews.chat import ChatPreview
from app.ui.previews.context import ChatTurn


def table(columns: int, rows: int) -> str:
    header, rule, row = "|" + " h |" * columns, "|" + "---|" * columns, "|" + " cell |" * columns
    return header + "\n" + rule + "\n" + (row + "\n") * rows


CASES = {
    "prose, 10 KB": "The quick brown fox jumps over the lazy dog. " * 220,
    "table 5 x 30": table(5, 30),
    "table 10 x 100": table(10, 100),
    "table 10 x 300": table(10, 300),
    "table 10 x 1000": table(10, 1000),
    "2,500 *a pairs": "*a" * 2500,
    "30,000 *a pairs": "*a" * 30000,
    "10,000 '<'": "<" * 10000,
}


def timed(show: Callable[[], None], app: QApplication, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        show()
        app.processEvents()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    bubble, view = ChatPreview(), SafeTextBrowser()
    for widget in (bubble, view):
        widget.resize(220, 400)
        widget.show()
    budgets = (chat.PREVIEW_BUDGET_US, markdown_view.TEXT_VIEW_BUDGET_US)
    print(f"bench_markdown {time.strftime('%Y-%m-%d %H:%M')} load {os.getloadavg()[0]:.2f}; seconds, "
          f"median of {args.repeats}: bubble off -> on, text view off -> on")
    for name, text in CASES.items():
        figures = []
        for on in (False, True):
            chat.PREVIEW_BUDGET_US, markdown_view.TEXT_VIEW_BUDGET_US = budgets if on else (10**12, 10**12)
            turns = [ChatTurn("user", "hi"), ChatTurn("assistant", text)]
            figures.append(timed(lambda turns=turns: bubble.show_turns(turns), app, args.repeats))
            figures.append(timed(lambda text=text: view.show_markdown(text), app, args.repeats))
        print(f"  {name:<18} bubble {figures[0]:6.3f} -> {figures[2]:6.3f} s   "
              f"text view {figures[1]:6.3f} -> {figures[3]:6.3f} s")


if __name__ == "__main__":
    main()
