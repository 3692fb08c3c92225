"""How many lines a 4x4 re-run adds to a prototype file, before and after issue 10.

Before: every ended run was appended, cache hits included, each with a full copy of its messages
(format 1). After: a cache hit that repeats a stored answer adds nothing (`app/core/results.py`),
and each distinct message list is stored once (format 2, `app/core/prompts.py`).

No model is called: runs are made the way the engine makes them (`build_messages` for the
messages, a five-line answer), so the figures are about the file, not about any model.

    PYTHONPATH=$PWD python bench/bench_file_growth.py
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.core.document import dumps_prototype, load_prototype, to_data
from app.core.messages import build_messages
from app.core.prototype import Prototype, Run, new_id
from app.core.results import record_runs
from app.core.threads import cell_states
from app.core.yamlio import dump

EXAMPLE = Path(__file__).resolve().parent.parent / "prototypes" / "cat-persona.yaml"
ANSWER = "Mrrp.\n\n- first point\n- second point\n- third point\n\n*stretches*"


def four_by_four() -> Prototype:
    proto = load_prototype(EXAMPLE)
    proto.models = [m for m in proto.models if m.provider == "local"][:1]
    proto.profiles = proto.profiles[:4]
    proto.cases = proto.cases[:4]
    assert len(proto.profiles) == 4 and len(proto.cases) == 4, "the example needs 4 profiles and 4 cases"
    return proto


def matrix(proto: Prototype, *, cached: bool) -> list[Run]:
    target = proto.models[0]
    return [
        Run(id=new_id("run"), created="2026-11-29T21:00:00Z", profile=profile.id, model=target.id,
            case=case.id, provider=target.provider, model_name=target.model, params=target.params,
            messages=build_messages(proto, profile, case), output=ANSWER, cached=cached,
            ttft_ms=120.0, latency_ms=900.0, cost_usd=0)
        for case in proto.cases for profile in proto.profiles
    ]


def v1_text(proto: Prototype) -> str:
    """The file as format 1 wrote it: messages inline in every run, no `prompts:` table."""
    data: dict[str, Any] = to_data(proto)
    table = data.pop("prompts", {})
    for run in data.get("runs", []):
        rebuilt = {("messages" if k == "prompt" else k): (table[v] if k == "prompt" else v)
                   for k, v in run.items()}
        run.clear()
        run.update(rebuilt)
    data["protostudio"] = 1
    return str(dump(data))


def lines(text: str) -> int:
    return text.count("\n")


def main() -> None:
    # before: append everything, write format 1
    old = four_by_four()
    old.runs.extend(matrix(old, cached=False))
    first_old = lines(v1_text(old))
    old.runs.extend(matrix(old, cached=True))
    rerun_old = lines(v1_text(old)) - first_old
    old.runs.extend(matrix(old, cached=False))
    fresh_old = lines(v1_text(old)) - first_old - rerun_old

    # after: the core policy, format 2
    new = four_by_four()
    record_runs(new, matrix(new, cached=False))
    first_new = lines(dumps_prototype(new))
    record_runs(new, matrix(new, cached=True))
    rerun_new = lines(dumps_prototype(new)) - first_new
    record_runs(new, matrix(new, cached=False))
    fresh_new = lines(dumps_prototype(new)) - first_new - rerun_new

    started = time.perf_counter()
    for _ in range(20):
        dumps_prototype(new)
    save_ms = (time.perf_counter() - started) / 20 * 1000

    print("4 profiles x 1 model x 4 cases (16 cells) of prototypes/cat-persona.yaml")
    print(f"{'':32}{'before':>8}{'after':>8}")
    print(f"{'file after the first run':32}{first_old:>8}{first_new:>8}")
    print(f"{'re-run from the cache adds':32}{rerun_old:>8}{rerun_new:>8}")
    print(f"{'re-run past the cache adds':32}{fresh_old:>8}{fresh_new:>8}")
    ratio = fresh_old / fresh_new if fresh_new else float("inf")
    print(f"fresh re-run: {ratio:.1f}x fewer lines; dumps_prototype of the 48-run file: {save_ms:.1f} ms")

    # what the grid pays per change: every cell's current answer and staleness, on a big file
    for _ in range(124):
        new.runs.extend(matrix(new, cached=False))
    started = time.perf_counter()
    for _ in range(5):
        cell_states(new)
    states_ms = (time.perf_counter() - started) / 5 * 1000
    print(f"cell_states over {len(new.runs)} runs (16 cells): {states_ms:.0f} ms")


if __name__ == "__main__":
    main()
