"""Cells graded by pure checks are graded as their output arrives, with the same results as at the end."""

from __future__ import annotations

import asyncio

from evals_kit import PROTO
from fakeserver import FakeOpenAI, Recorded, Reply

from app.core.document import parse_prototype
from app.core.evals.assertions import Graders
from app.core.prototype import Assertion, EvalResult, Prototype, Run
from app.engine.evals import EvalOptions, EvalOutcome, EvalProgress, EvalRunner
from app.providers.hub import ProviderHub


class WatchedRunner(EvalRunner):
    """Notes how many cells had ended each time a cell starts being graded."""

    ended = 0
    graded_at: list[int]

    async def _grade_cell(self, proto: Prototype, cell: object, root: Run, graders: Graders,
                          runs: object = ()) -> EvalResult:
        self.graded_at.append(self.ended)
        return await super()._grade_cell(proto, cell, root, graders, runs)  # type: ignore[arg-type]


def evaluate(proto: Prototype) -> tuple[EvalOutcome, list[int], int]:
    async def go() -> tuple[EvalOutcome, list[int], int]:
        hub = ProviderHub()
        runner = WatchedRunner(hub)
        runner.graded_at = []
        total = 0

        def progress(event: EvalProgress) -> None:
            nonlocal total
            if event.stage == "run":
                runner.ended, total = event.done, event.total

        try:
            outcome = await runner.run(proto, EvalOptions(models=["fake"], use_cache=False), progress)
        finally:
            await hub.aclose()
        return outcome, runner.graded_at, total

    return asyncio.run(go())


def slow_fruits(rec: Recorded) -> Reply:
    """Every answer at once, but the fruits case's only after a second."""
    asked = rec.messages[-1]["content"]
    if "fruits" in asked:
        return Reply(text="- apple\n- pear\n- plum", ttft=1.0)
    return Reply(text="- red\n- green\n- blue")


def test_pure_checks_grade_while_other_cells_still_stream(fake_server: FakeOpenAI) -> None:
    fake_server.responder = slow_fruits
    proto = parse_prototype(PROTO.format(base_url=fake_server.base_url))
    outcome, graded_at, total = evaluate(proto)
    assert total == 4 and len(graded_at) == 4
    assert min(graded_at) < total  # graded before the slow cells ended
    assert [(r.case, r.profile, r.passed) for r in outcome.eval_run.results] == [
        ("colors", "bullets", True), ("colors", "plain", True),
        ("fruits", "bullets", True), ("fruits", "plain", True)]


def test_a_cell_with_a_judged_check_is_graded_only_at_the_end(fake_server: FakeOpenAI) -> None:
    fake_server.responder = slow_fruits
    proto = parse_prototype(PROTO.format(base_url=fake_server.base_url))
    for case in proto.cases:
        case.assert_.append(Assertion(type="llm-rubric", value="lists things", judge="judge"))
    _, graded_at, total = evaluate(proto)
    assert graded_at == [total] * total
