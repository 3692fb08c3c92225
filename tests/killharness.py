"""SIGKILL trials for `protostudio run`: how many finished cells does a kill lose?

Run by `tests/engine/test_sigkill.py` (and `bench/bench_hardening.py`) as a child process, so the
forks below happen in a process with no threads. For each trial it forks a child that runs
`protostudio run FILE` (against an OpenAI-compatible server at --server) with stderr on a pty, so
the child draws its progress bar ("k/N cells") on every finished cell, as a person would see it.
The child gets SIGKILL right after it reports its k-th finished cell, k drawn at random for each
trial (`--kill-after`), or after a random delay (`--min-delay`/`--max-delay`, the older mode, which
depends on how fast the machine is). A cell counts as finished when the child said so on its
progress line; the file is then opened the way the next `run` opens it (journal folded) and
every finished cell must be in it. `--lose-journal` deletes the journal before that: the control
that shows this harness sees a loss when there is one.

Prints one JSON object: trials, killed (trials that were killed before the run ended),
acknowledged (cells reported finished before the kill), lost, trials_with_loss, seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import pty
import random
import re
import select
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.cli import main as cli_main  # noqa: E402 - imported before forking, so each child starts fast
from app.core.journal import journal_path, load_recovering  # noqa: E402
from app.engine import engine as _engine  # noqa: E402,F401 - warm imports for the forks
from app.providers import hub as _hub  # noqa: E402,F401

PROGRESS = re.compile(rb"(\d+)/(\d+) cells")


def prototype_text(server: str, cases: int) -> str:
    lines = ["name: kill trials", "profiles:"]
    for profile in ("a", "b"):
        lines += [f"  - id: {profile}", f"    system_prompt: Answer as {profile}."]
    lines += ["models:", "  - id: fake", "    provider: ollama", "    model: fake-model",
              f"    base_url: {server}", "cases:"]
    for index in range(cases):
        lines += [f"  - id: c{index}", "    turns:", f"      - content: question {index}"]
    return "\n".join(lines) + "\n"


def one_trial(path: Path, delay: float, lose_journal: bool,
              kill_at: int | None = None) -> tuple[bool, int, int]:
    """(killed before the end, cells acknowledged, cells in the file afterwards).

    With `kill_at`, the kill comes as soon as the progress line says `kill_at` cells are done (the
    delay is then only an upper bound), so a trial is mid-run however fast the machine is."""
    pid, master = pty.fork()
    if pid == 0:  # the child: the real command, as `protostudio run` runs it
        code = 1
        try:
            code = cli_main(["run", str(path), "--no-cache", "--concurrency", "8"])
        finally:
            os._exit(code if isinstance(code, int) else 1)
    seen = b""
    deadline = time.monotonic() + delay
    exited = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the pty (it exited)
                exited = True
                break
            if not chunk:
                exited = True
                break
            seen += chunk
            if kill_at is not None and max((int(m.group(1)) for m in PROGRESS.finditer(seen)),
                                           default=0) >= kill_at:
                break
    if not exited:
        os.kill(pid, signal.SIGKILL)
    while True:  # what the child wrote before the kill is still in the pty
        try:
            ready, _, _ = select.select([master], [], [], 0.5)
            chunk = os.read(master, 65536) if ready else b""
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    _, status = os.waitpid(pid, 0)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    counts = [int(m.group(1)) for m in PROGRESS.finditer(seen)]
    acknowledged = max(counts, default=0)
    if lose_journal:
        journal_path(path).unlink(missing_ok=True)
    proto, _ = load_recovering(path)
    return killed, acknowledged, len(proto.runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--min-delay", type=float, default=0.15)
    parser.add_argument("--max-delay", type=float, default=1.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kill-after", type=float, nargs=2, metavar=("LOW", "HIGH"), default=None,
                        help="kill after a random share (LOW..HIGH, 0..1) of the cells reported finished")
    parser.add_argument("--lose-journal", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    text = prototype_text(args.server, args.cases)
    warm = work / "warm-up.yaml"  # one small run first, so every lazy import is done before forking
    warm.write_text(prototype_text(args.server, 1), encoding="utf-8")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        cli_main(["run", str(warm), "--no-cache"])
    started = time.monotonic()
    result = {"trials": 0, "killed": 0, "acknowledged": 0, "lost": 0, "trials_with_loss": 0, "max_loss": 0}
    for trial in range(args.trials):
        path = work / f"trial{trial}.yaml"
        path.write_text(text, encoding="utf-8")
        delay = rng.uniform(args.min_delay, args.max_delay)
        kill_at = None
        if args.kill_after:
            cells = 2 * args.cases
            kill_at = max(1, min(cells - 1, round(cells * rng.uniform(*args.kill_after))))
            delay = 60.0  # an upper bound only
        killed, acknowledged, kept = one_trial(path, delay, args.lose_journal, kill_at)
        lost = max(0, acknowledged - kept)
        result["trials"] += 1
        result["killed"] += killed
        result["acknowledged"] += acknowledged
        result["lost"] += lost
        result["trials_with_loss"] += lost > 0
        result["max_loss"] = max(result["max_loss"], lost)
        path.unlink(missing_ok=True)
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
