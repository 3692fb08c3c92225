"""The journal: one fsync'd line per run, torn lines skipped, folded once, deleted after the save."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.document import load_prototype, save_prototype
from app.core.errors import PrototypeError
from app.core.journal import Journal, journal_path, load_recovering, read_journal
from app.core.prototype import Prototype, Run

PROTO = """name: j
profiles:
  - id: p
models:
  - id: m
    provider: ollama
    model: x
cases:
  - id: c
    turns:
      - content: hi
"""


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(PROTO, encoding="utf-8")
    return path


def _run(run_id: str, **extra: object) -> Run:
    return Run.model_validate({"id": run_id, "created": "2026-11-29T00:00:00Z", "profile": "p", "model": "m",
                               "case": "c", "output": "out",
                               **extra})


def test_journaled_runs_are_folded_into_the_file_once(tmp_path: Path) -> None:
    path = _file(tmp_path)
    journal = Journal(path)
    journal.append(_run("run-1"))
    journal.append(_run("run-2", parent="run-1"))
    journal.close()
    proto, recovered = load_recovering(path)
    assert recovered == 2 and [r.id for r in proto.runs] == ["run-1", "run-2"]
    assert [r.id for r in load_prototype(path).runs] == ["run-1", "run-2"]  # saved into the file
    assert not journal_path(path).exists()
    assert load_recovering(path)[1] == 0


def test_a_torn_last_line_and_garbage_are_skipped(tmp_path: Path) -> None:
    path = _file(tmp_path)
    journal = Journal(path)
    journal.append(_run("run-1"))
    journal.close()
    with open(journal_path(path), "ab") as handle:
        handle.write(b'not json\n{"protostudio": 1, "run": {"id": "run-2", "prof')  # killed mid-write
    read = read_journal(path)
    assert [r.id for r in read.runs] == ["run-1"] and read.skipped == 2
    assert load_recovering(path)[1] == 1


def test_runs_already_in_the_file_or_pointing_nowhere_are_not_added(tmp_path: Path) -> None:
    path = _file(tmp_path)
    proto = load_prototype(path)
    proto.runs.append(_run("run-1"))
    save_prototype(proto, path)  # killed after this save, before the journal was deleted
    journal = Journal(path)
    journal.append(_run("run-1"))
    journal.append(_run("run-9", profile="gone"))
    journal.append(_run("run-3", parent="run-missing"))
    journal.close()
    proto, recovered = load_recovering(path)
    assert recovered == 0 and [r.id for r in proto.runs] == ["run-1"]


def test_a_broken_file_keeps_its_journal(tmp_path: Path) -> None:
    path = _file(tmp_path)
    Journal(path).append(_run("run-1"))
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(PrototypeError):
        load_recovering(path)
    assert journal_path(path).exists()


def test_prototype_type_is_unchanged_by_fold(tmp_path: Path) -> None:
    proto, _ = load_recovering(_file(tmp_path))
    assert isinstance(proto, Prototype)


def test_status_and_run_fold_a_left_over_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    path = _file(tmp_path)
    Journal(path).append(_run("run-1"))
    assert main(["status", str(path)]) == 0
    assert "recovered 1 finished cell(s)" in capsys.readouterr().err
    assert [r.id for r in load_prototype(path).runs] == ["run-1"]
    assert not journal_path(path).exists()


def test_a_journaled_conversation_end_is_folded_onto_its_run(tmp_path: Path) -> None:
    from app.core.prototype import ConversationEnd

    path = _file(tmp_path)
    journal = Journal(path)
    journal.append(_run("run-1"))
    journal.append(_run("run-2", parent="run-1"))
    journal.append_end("run-2", ConversationEnd(by="script_end", reason="2 scripted messages sent"))
    journal.append_end("run-gone", ConversationEnd(by="done"))  # a run the file no longer has
    journal.close()
    with open(journal_path(path), "ab") as handle:
        handle.write(b'{"protostudio": 3, "end": {"run": 7, "by": "done"}}\n{"protostudio": 3, "end": {"ru')
    read = read_journal(path)
    assert [run_id for run_id, _ in read.ends] == ["run-2", "run-gone"] and read.skipped == 2
    _, recovered = load_recovering(path)
    assert recovered == 2
    saved = {r.id: r.conversation_end for r in load_prototype(path).runs}
    assert saved["run-1"] is None and saved["run-2"] == ConversationEnd(by="script_end",
                                                                        reason="2 scripted messages sent")


def test_an_end_alone_still_saves_the_file(tmp_path: Path) -> None:
    """The runs were saved, the end was not: folding the end alone must still save."""
    from app.core.prototype import ConversationEnd

    path = _file(tmp_path)
    proto = load_prototype(path)
    proto.runs.append(_run("run-1"))
    save_prototype(proto, path)
    journal = Journal(path)
    journal.append(_run("run-1"))
    journal.append_end("run-1", ConversationEnd(by="max_turns"))
    journal.close()
    assert load_recovering(path)[1] == 0
    assert load_prototype(path).runs[0].conversation_end == ConversationEnd(by="max_turns")
    assert not journal_path(path).exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and symlinks")
@pytest.mark.timeout(60)
@pytest.mark.parametrize("planted", ["fifo", "dev-zero", "symlink"])
def test_a_planted_journal_neither_hangs_nor_is_followed(tmp_path: Path, planted: str) -> None:
    """A `.NAME.journal.jsonl` that is a FIFO, a link to /dev/zero or to another file (a shared
    folder, a git checkout): loading neither blocks nor reads without bound, and appending never
    writes through the link. Before: `read_bytes()` hung on the FIFO and ate GBs on /dev/zero."""
    path = _file(tmp_path)
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me\n", encoding="utf-8")
    journal = journal_path(path)
    if planted == "fifo":
        os.mkfifo(journal)
    else:
        journal.symlink_to("/dev/zero" if planted == "dev-zero" else target)
    assert read_journal(path).runs == []
    if planted == "symlink":
        with pytest.raises(OSError):
            Journal(path).append(_run("run-1"))
        assert target.read_text(encoding="utf-8") == "keep me\n"
    proto, recovered = load_recovering(path)
    assert recovered == 0 and proto.runs == [] and not journal.is_symlink() and not journal.exists()
