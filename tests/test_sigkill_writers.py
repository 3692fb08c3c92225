"""SIGKILL in the middle of every small writer: the file is the old version or the new one, never
torn, and loads. Covers the writers `tests/core/test_kill_during_save.py` (prototype saves),
`tests/engine/test_sigkill.py` (run journal) and `tests/evals/test_eval_sigkill.py` (eval journal)
do not: custom providers (`providers.json`), the window's UI state, the rater identity, the
response cache, and `merge -o` / `export` (through `write_atomic`).

One harness process imports everything, then forks a child per trial that rewrites the file in
a loop, alternating two large versions; the harness SIGKILLs it after a random few milliseconds
and reads the file with the app's own reader. The temps the kills left are removed by the
writer's next start or save (before: providers, UI state, rater, export and merge -o left them
forever). A control writes with a plain `open(..., "w")` and must be caught tearing a file, and
plain `write_atomic` (no sweep) must be seen leaving temps, so the harness can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fork and SIGKILL")

HARNESS = r'''
import json, os, random, signal, sys, time
from pathlib import Path

writer_name, work, trials = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
os.environ["PROTOSTUDIO_HOME"] = str(work / "home")
from app.core.atomic import write_atomic
from app.core.rater import Identity, load_identity, save_identity
from app.providers.cache import CachedAnswer, ResponseCache
from app.providers.registry import Registry
from app.ui.ui_state import UiState

BIG = ["a" * 300_000, "b" * 300_000]
KEY = "ab" + "0" * 62


def providers(i):
    Registry().add("custom", f"https://h{i}.example/v1", name=BIG[i][:50_000])


def read_providers():
    spec = Registry().get("custom")
    return {spec.base_url}


def ui_state(i):
    state = UiState(work / "ui.json")
    state.set("blob", BIG[i])
    state.save()


def read_ui_state():
    return {json.loads((work / "ui.json").read_text())["blob"][:1]}


def rater(i):
    save_identity(Identity(name=BIG[i][:100_000]))


def read_rater():
    return {load_identity().name[:1]}


def cache(i):
    ResponseCache(work / "cache").put(KEY, CachedAnswer(text=BIG[i], finish_reason="stop"))


def read_cache():
    path = work / "cache" / KEY[:2] / f"{KEY}.json"
    json.loads(path.read_text())  # torn JSON raises: the cache would only call it a miss
    return {ResponseCache(work / "cache").get(KEY).text[:1]}


def atomic(i):
    write_atomic(work / "out.yaml", BIG[i].encode())


def read_atomic():
    return {(work / "out.yaml").read_text()[:1] + str(len((work / "out.yaml").read_text()))}


def merge_out(i):
    from app.commands.merge import _write
    _write(str(work / "out.yaml"), BIG[i])


class _Export:
    def __init__(self, i):
        self.files = {"out.yaml": BIG[i]}


def export(i):
    from app.commands.export import write_files
    write_files(_Export(i), work)


def naive(i):  # the control: not atomic
    with open(work / "out.yaml", "w") as handle:
        handle.write(BIG[i])


WRITERS = {"providers": (providers, read_providers), "ui_state": (ui_state, read_ui_state),
           "rater": (rater, read_rater), "cache": (cache, read_cache),
           "write_atomic": (atomic, read_atomic), "merge_out": (merge_out, read_atomic),
           "export": (export, read_atomic), "naive": (naive, read_atomic)}
write, read = WRITERS[writer_name]
write(0)
expected = read()
write(1)
expected |= read()
rng = random.Random(writer_name)
torn = 0
for trial in range(trials):
    pid = os.fork()
    if pid == 0:
        i = 0
        while True:
            write(i)
            i ^= 1
    time.sleep(rng.uniform(0.002, 0.06))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        if not read() <= expected:
            torn += 1
    except Exception:
        torn += 1
# temps the kills left, aged past the stale limit: the writer's next start or save removes them
for temp in work.rglob("*.tmp"):
    os.utime(temp, (time.time() - 3600, time.time() - 3600))
if writer_name == "ui_state":
    UiState(work / "ui.json")
else:
    write(0)
left = len(list(work.rglob("*.tmp")))
print(json.dumps({"trials": trials, "torn": torn, "temps_left": left}))
'''


def _trials(writer: str, work: Path, trials: int) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    work.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-c", HARNESS, writer, str(work), str(trials)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.timeout(300)
@pytest.mark.parametrize("writer", ["providers", "ui_state", "rater", "cache", "merge_out", "export"])
def test_a_sigkill_mid_write_leaves_old_or_new(writer: str, tmp_path: Path) -> None:
    assert _trials(writer, tmp_path, 25) == {"trials": 25, "torn": 0, "temps_left": 0}


@pytest.mark.timeout(300)
def test_control_a_plain_write_is_caught_torn(tmp_path: Path) -> None:
    assert _trials("naive", tmp_path, 25)["torn"] > 0
    assert _trials("write_atomic", tmp_path / "unswept", 25)["temps_left"] > 0  # no sweeper there
