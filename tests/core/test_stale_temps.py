"""Temp files of a killed save are removed on the next load; a save in progress and other files are not."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.core import atomic
from app.core.atomic import write_atomic
from app.core.document import load_prototype
from app.providers.cache import CachedAnswer, ResponseCache

OLD = time.time() - 3600


def _temp(folder: Path, name: str, *, old: bool) -> Path:
    path = folder / name
    path.write_bytes(b"half a save")
    if old:
        os.utime(path, (OLD, OLD))
    return path


def test_load_removes_stale_temps_of_that_file_only(tmp_path: Path) -> None:
    proto = tmp_path / "p.yaml"
    proto.write_text("name: p\n", encoding="utf-8")
    stale = [_temp(tmp_path, f".p.yaml.{s}.tmp", old=True) for s in ("abcd1234", "x_Y9zz00")]
    fresh = _temp(tmp_path, ".p.yaml.live0000.tmp", old=False)  # another process saving right now
    other = _temp(tmp_path, ".q.yaml.abcd1234.tmp", old=True)  # another file's temp
    mine = _temp(tmp_path, "p.yaml.abcd1234.tmp", old=True)  # not our pattern (no leading dot)
    load_prototype(proto)
    assert not any(p.exists() for p in stale)
    assert fresh.exists() and other.exists() and mine.exists()


def test_cache_sweeps_stale_temps_once(tmp_path: Path) -> None:
    root = tmp_path / "responses"
    (root / "ab").mkdir(parents=True)
    stale = _temp(root / "ab", f".{'a' * 64}.json.zz99zz99.tmp", old=True)
    fresh = _temp(root / "ab", f".{'b' * 64}.json.zz99zz99.tmp", old=False)
    cache = ResponseCache(root)
    cache.put("cd" + "0" * 62, CachedAnswer("hi", "stop"))
    assert not stale.exists() and fresh.exists()


def test_a_failed_write_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "p.yaml"

    def broken_replace(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, b"name: p\n")
    assert list(tmp_path.iterdir()) == []
