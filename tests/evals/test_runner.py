"""The eval runner in-process against the scriptable server: judges, embeddings, reuse, no mutation."""

from __future__ import annotations

import asyncio
from pathlib import Path

from evals_kit import PROTO
from fakeserver import FakeOpenAI, Reply

from app.core.document import load_prototype, parse_prototype
from app.core.prototype import Assertion, Prototype
from app.core.results import record_eval
from app.engine.evals import EvalOptions, EvalOutcome, EvalRunner
from app.providers.hub import ProviderHub


def evaluate(proto: Prototype, options: EvalOptions) -> EvalOutcome:
    async def go() -> EvalOutcome:
        hub = ProviderHub()
        try:
            return await EvalRunner(hub).run(proto, options)
        finally:
            await hub.aclose()

    return asyncio.run(go())


def load(server: FakeOpenAI) -> Prototype:
    return parse_prototype(PROTO.format(base_url=server.base_url))


def test_llm_rubric_uses_the_scripted_judge(scripted: FakeOpenAI) -> None:
    proto = load(scripted)
    proto.case("colors").assert_.append(
        Assertion(type="llm-rubric", value="Names exactly three colors, no more.", judge="judge")
    )
    scripted.enqueue(Reply(text='{"pass": false, "reason": "It names four colors."}'), model="fake-judge")
    outcome = evaluate(proto, EvalOptions(profiles=["bullets"], models=["fake"]))
    colors = next(r for r in outcome.eval_run.results if r.case == "colors")
    rubric = colors.assertions[-1]
    assert rubric.type == "llm-rubric" and not rubric.passed
    assert rubric.reason == "judge: It names four colors., expected the rubric to pass"
    assert not colors.passed
    judged = [r for r in scripted.chat_requests() if (r.body or {}).get("model") == "fake-judge"]
    assert len(judged) == 1
    body = judged[0].body or {}
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 256  # a rambling small judge cannot take minutes
    prompt = judged[0].messages[-1]["content"]
    assert "Names exactly three colors" in prompt and "- red\n- green\n- blue" in prompt
    assert "Name three colors." in prompt


def test_judge_default_and_unreadable_answers(scripted: FakeOpenAI) -> None:
    proto = load(scripted)
    proto.default_assert = [Assertion(type="llm-rubric", value="Is polite.")]
    scripted.enqueue(Reply(text="PASS - polite enough"), Reply(text="hmm, hard to say"), model="fake-judge")
    outcome = evaluate(proto, EvalOptions(profiles=["bullets"], models=["fake"], judge="judge"))
    reasons = sorted(r.assertions[0].reason for r in outcome.eval_run.results)
    assert reasons[0].startswith('judge answer not understood (expected JSON with "pass" or PASS/FAIL)')
    assert reasons[1] == "judge: polite enough"
    assert outcome.eval_run.pass_rate == 0.5


def test_similar_through_an_embedding_target(scripted: FakeOpenAI) -> None:
    proto = load(scripted)
    proto.default_assert = [
        Assertion(type="similar", value=["red green blue", "apple pear plum"], threshold=0.9),
        Assertion(type="not-similar", value="taxes are due in april", threshold=0.5),
    ]
    outcome = evaluate(proto, EvalOptions(profiles=["bullets"], models=["fake"], embedder="fake"))
    assert outcome.eval_run.pass_rate == 1.0, [
        a.reason for r in outcome.eval_run.results for a in r.assertions
    ]
    embed_calls = [r for r in scripted.requests if r.path.endswith("/embeddings")]
    texts = [t for r in embed_calls for t in (r.body or {})["input"]]
    assert texts.count("red green blue") == 1  # references are embedded once per eval


def test_runner_leaves_the_prototype_alone_until_applied(scripted: FakeOpenAI) -> None:
    proto = load(scripted)
    before = proto.model_dump()
    outcome = evaluate(proto, EvalOptions(models=["fake"]))
    assert proto.model_dump() == before
    record_eval(proto, outcome.new_runs, outcome.eval_run)
    assert proto.evals == [outcome.eval_run] and len(proto.runs) == 4
    assert {r.run for r in outcome.eval_run.results} == {r.id for r in proto.runs}


def test_an_edited_prompt_invalidates_stored_runs(scripted: FakeOpenAI) -> None:
    proto = load(scripted)
    _apply(proto, evaluate(proto, EvalOptions(profiles=["bullets"], models=["fake"])))
    calls = len(scripted.chat_requests())
    again = evaluate(proto, EvalOptions(profiles=["bullets"], models=["fake"]))
    assert again.new_runs == [] and len(scripted.chat_requests()) == calls
    proto.profile("bullets").system_prompt = "Answer with exactly three bullet points, in French."
    edited = evaluate(proto, EvalOptions(profiles=["bullets"], models=["fake"], use_cache=True))
    assert len(edited.new_runs) == 2
    assert len(scripted.chat_requests()) == calls + 2


def test_shipped_example_prototypes_have_valid_assertions(prototypes_dir: Path) -> None:
    from app.core.evals.validation import assertion_problems

    for path in sorted(prototypes_dir.glob("*.yaml")):
        assert assertion_problems(load_prototype(path)) == [], path.name


def test_compare_to_last_finds_the_run_over_the_same_variant(scripted: FakeOpenAI) -> None:
    """A run over another profile in between must not hide a regression (it was compared to, and
    shared no cell with, the newest run)."""
    proto = load(scripted)
    bullets = EvalOptions(profiles=["bullets"], models=["fake"])
    first = evaluate(proto, bullets)
    record_eval(proto, first.new_runs, first.eval_run)
    assert first.eval_run.pass_rate == 1.0
    _apply(proto, evaluate(proto, EvalOptions(profiles=["plain"], models=["fake"])))
    scripted.responder = lambda rec: Reply(text="- red\n- green")
    again = EvalOptions(profiles=["bullets"], models=["fake"], use_cache=False, compare_to="last")
    outcome = evaluate(proto, again)
    assert outcome.compared_to == first.eval_run.id and outcome.compared_cells == 2
    assert [r.case for r in outcome.regressions] == ["colors", "fruits"]
    plain_run = proto.evals[1].id
    pinned = EvalOptions(profiles=["bullets"], models=["fake"], compare_to=plain_run)
    nothing = evaluate(proto, pinned)
    assert nothing.compared_to == plain_run and nothing.compared_cells == 0 and not nothing.regressions


def _apply(proto: Prototype, outcome: EvalOutcome) -> None:
    record_eval(proto, outcome.new_runs, outcome.eval_run)
