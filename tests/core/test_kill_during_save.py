"""A crash mid-save leaves the old file or the new one, never a torn one.

A child process saves a large prototype over and over, alternating two versions; the parent
SIGKILLs it at random moments, then loads the file. It must always load, and be exactly one
of the two versions. A control run with a naive `open(..., "wb")` writer shows that the same
harness does catch torn files, so the real test can fail.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.document import dumps_prototype, load_prototype
from app.core.prototype import Message, Prototype, Run

ROOT = Path(__file__).resolve().parents[2]
KILLS = 40

CHILD = r"""
import os, sys
from pathlib import Path
from app.core.atomic import write_atomic
from app.core.document import parse_prototype, save_prototype

target, a_path, b_path, mode = sys.argv[1:5]
versions = [parse_prototype(Path(p).read_text(encoding="utf-8")) for p in (a_path, b_path)]
blobs = [Path(p).read_bytes() for p in (a_path, b_path)]
i = 0
while True:
    i += 1
    if i == 2:
        print("ready", flush=True)  # one whole save done: every kill lands in a later one
    if mode == "naive":
        with open(target, "wb") as handle:
            data = blobs[i % 2]
            for start in range(0, len(data), 65536):
                handle.write(data[start:start + 65536])
                handle.flush()
    elif i % 5 == 0:
        save_prototype(versions[i % 2], target)  # the whole path: serialise, then write atomically
    else:
        write_atomic(target, blobs[i % 2])  # what save_prototype does once the text is ready
"""


def _big_prototype(label: str, runs: int) -> Prototype:
    output = f"{label}: a long answer that goes on.\nSecond line of it, with unicode ✓ 猫.\n" * 40
    return Prototype(
        name=f"Version {label}",
        runs=[
            Run(id=f"run-{i}", created="2026-11-22T06:00:00Z", profile="p", model="m", case="c",
                messages=[Message(role="user", content=f"question {i}")], output=output)
            for i in range(runs)
        ],
    )


def _start(target: Path, a: Path, b: Path, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target), str(a), str(b), mode],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    return child


def _kill_at_random(child: subprocess.Popen[str], rng: random.Random) -> None:
    time.sleep(rng.uniform(0.0, 0.25))
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.stdout is not None
    child.stdout.close()


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path, bytes, bytes]:
    a_text = dumps_prototype(_big_prototype("A", 120)).encode("utf-8")
    b_text = dumps_prototype(_big_prototype("B", 150)).encode("utf-8")
    assert a_text != b_text and len(a_text) > 400_000
    a, b = tmp_path / "a.src", tmp_path / "b.src"
    a.write_bytes(a_text)
    b.write_bytes(b_text)
    return a, b, a_text, b_text


def test_sigkill_mid_save_leaves_old_or_new(
    tmp_path: Path, versions: tuple[Path, Path, bytes, bytes]
) -> None:
    a, b, a_text, b_text = versions
    folder = tmp_path / "project"
    folder.mkdir()
    target = folder / "proto.yaml"
    target.write_bytes(a_text)
    rng = random.Random(20261122)
    seen = set()
    for _ in range(KILLS):
        child = _start(target, a, b, "atomic")
        _kill_at_random(child, rng)
        data = target.read_bytes()
        assert data in (a_text, b_text), f"torn file: {len(data)} bytes"
        seen.add(data)
        assert load_prototype(target).name in ("Version A", "Version B")
        for leftover in folder.glob(".proto.yaml.*.tmp"):  # a killed writer may leave its temp file
            leftover.unlink()
    assert b_text in seen, "the child never saved; the test proved nothing"


def test_the_harness_does_catch_a_non_atomic_writer(
    tmp_path: Path, versions: tuple[Path, Path, bytes, bytes]
) -> None:
    a, b, a_text, b_text = versions
    target = tmp_path / "naive.yaml"
    target.write_bytes(a_text)
    rng = random.Random(7)
    for _ in range(KILLS):
        child = _start(target, a, b, "naive")
        _kill_at_random(child, rng)
        if target.read_bytes() not in (a_text, b_text):
            return
    pytest.fail("a naive writer was never caught mid-write; the kill test would not catch one either")
