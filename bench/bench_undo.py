"""Undo of a structural delete stays cheap on a big file: delete + undo of one case or one profile on
a prototype with 10,000 varied runs (votes on them, an eval run pointing at them), in CPU ms.

Run: PYTHONPATH=$PWD python bench/bench_undo.py [--runs 10000] [--repeats 7] [--window]

`--window` also times the same delete and undo in the real main window (offscreen), GUI-thread CPU
including the views' refresh, next to the old delete path (`structure.delete` + `structure_edited`).

For scale it also prints what a whole-prototype deep copy per step (the naive undo) costs on the
same file, and the ratio. Each figure is the median CPU time over R repeats in this process.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_big_files import varied_runs  # noqa: E402

from app.core.document import to_data  # noqa: E402
from app.core.history import Delete, History  # noqa: E402
from app.core.prototype import EvalResult, EvalRun, Preference, Prototype  # noqa: E402


def big_file(runs: int) -> Prototype:
    proto = varied_runs(runs)
    ids = [r.id for r in proto.runs]
    proto.preferences = [Preference(id=f"v{k}", created="t", a=ids[k], b=ids[k + 1], verdict="a")
                         for k in range(0, min(len(ids) - 1, 2000), 2)]
    proto.evals = [EvalRun(id="e", created="t", pass_rate=1, results=[
        EvalResult(case=r.case, profile=r.profile, model=r.model, run=r.id, passed=True, score=1)
        for r in proto.runs[:1000]])]
    return proto


def cpu_ms(fn: object, repeats: int) -> tuple[float, float]:
    """Median CPU ms of `fn()` (which returns a second callable, timed separately), and of that one."""
    first, second = [], []
    for _ in range(repeats):
        start = time.process_time()
        then = fn()  # type: ignore[operator]
        first.append(time.process_time() - start)
        start = time.process_time()
        then()
        second.append(time.process_time() - start)
    return statistics.median(first) * 1000, statistics.median(second) * 1000


def window_figures(runs: int, repeats: int) -> None:
    """Delete and undo of a case through the window, with every view refreshing (GUI-thread CPU)."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PROTOSTUDIO_HOME", tempfile.mkdtemp(prefix="bench-undo-"))
    from PySide6.QtWidgets import QApplication

    from app.core import structure
    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    proto = big_file(runs)
    window = MainWindow(proto)
    window.show()
    app.processEvents()
    case = proto.cases[0].id
    old, new, back = [], [], []
    for _ in range(repeats):
        start = time.process_time()
        window.document.edit_structure(Delete("cases", case))
        app.processEvents()
        new.append(time.process_time() - start)
        start = time.process_time()
        window.document_undo.undo()
        app.processEvents()
        back.append(time.process_time() - start)
    for _ in range(repeats):  # the old path leaves no undo: a fresh copy of the file for each repeat
        window.document.replace(big_file(runs), None)
        app.processEvents()
        start = time.process_time()
        structure.delete(window.document.proto, "cases", case)
        window.document.structure_edited()
        app.processEvents()
        old.append(time.process_time() - start)
    print(f"window, {len(proto.runs)} runs: delete case {statistics.median(new) * 1000:.0f} ms CPU, "
          f"undo {statistics.median(back) * 1000:.0f} ms CPU; old delete path (no undo) "
          f"{statistics.median(old) * 1000:.0f} ms CPU")
    window.file_ops.ask_unsaved = lambda: "discard"  # type: ignore[assignment]
    window.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--window", action="store_true")
    args = parser.parse_args()
    if args.window:
        window_figures(args.runs, args.repeats)
        return
    proto = big_file(args.runs)
    before = to_data(proto)
    results = len(proto.evals[0].results)
    print(f"{len(proto.runs)} runs, {len(proto.preferences)} votes, {results} eval results")
    for kind, item_id in (("cases", proto.cases[0].id), ("profiles", proto.profiles[0].id)):
        log = History()

        def delete(kind: str = kind, item_id: str = item_id, log: History = log) -> object:
            log.do(proto, Delete(kind, item_id))  # type: ignore[arg-type]
            return lambda: log.undo(proto)

        delete_ms, undo_ms = cpu_ms(delete, args.repeats)
        went = sum(1 for r in before["runs"] if r[kind[:-1]] == item_id)
        print(f"delete {kind[:-1]} {item_id!r} ({went} runs): delete {delete_ms:.1f} ms CPU, "
              f"undo {undo_ms:.1f} ms CPU")
    assert to_data(proto) == before, "undo did not give the file back"
    copies = []
    for _ in range(3):
        start = time.process_time()
        copy.deepcopy(proto)
        copies.append(time.process_time() - start)
    naive = statistics.median(copies) * 1000
    print(f"for scale: one deep copy of the whole prototype {naive:.0f} ms CPU "
          f"({naive / max(delete_ms + undo_ms, 1e-3):.0f}x the last delete + undo)")


if __name__ == "__main__":
    main()
