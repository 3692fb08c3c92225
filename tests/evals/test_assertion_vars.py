"""A case's `{{var}}`s are rendered into its assertions before grading, exactly as into its messages."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fakeserver import FakeOpenAI, Reply
from test_runner import evaluate, load

from app.core.evals.assertions import Graders, grade, grade_case, render_assertion
from app.core.messages import build_messages
from app.core.messages import render_vars as engine_render_vars
from app.core.placeholders import render_vars
from app.core.prototype import Assertion, Case, Message, Profile, Turn
from app.engine.evals import EvalOptions

NAME = {"user_name": "Priya"}


def graded(type_: str, value: object, output: str, graders: Graders | None = None) -> bool:
    assertion = Assertion(type=type_, value=value)
    return asyncio.run(grade(assertion, output, graders or Graders(), vars=NAME)).passed


def test_contains_and_lists_use_the_case_vars() -> None:
    assert graded("contains", "{{user_name}}", "Hi Priya!")
    assert not graded("contains", "{{user_name}}", "Hi {{user_name}}!")  # the literal is not what was meant
    assert graded("icontains", "{{ user_name }}", "hi PRIYA")
    assert graded("not-contains", "{{user_name}}", "Hi there")
    assert graded("contains-all", ["Hi", "{{user_name}}"], "Hi Priya")
    assert not graded("contains-any", ["{{user_name}}", "Sam"], "Hi there")
    assert graded("equals", "Hi {{user_name}}.", "Hi Priya.")
    assert graded("starts-with", "{{user_name}},", "Priya, hello")


def test_regex_is_rendered_before_it_is_compiled() -> None:
    assert graded("regex", r"^Hi {{user_name}}!$", "Hi Priya!")
    assert not graded("regex", r"^Hi {{user_name}}!$", "Hi Sam!")


def test_unknown_vars_stay_as_written_like_in_messages() -> None:
    assert graded("contains", "{{nobody}}", "a literal {{nobody}} placeholder")
    assert not graded("contains", "{{nobody}}", "nothing")
    case = Case(id="c", vars=NAME, turns=[Turn(content="{{nobody}} {{user_name}}")])
    sent = build_messages(None, Profile(id="p"), case)[-1].content
    assert sent == render_vars("{{nobody}} {{user_name}}", NAME) == "{{nobody}} Priya"
    assert engine_render_vars is render_vars  # one renderer for messages and assertions


def test_rubric_text_and_references_reach_the_graders_rendered() -> None:
    seen: list[str] = []

    async def judge(judge_id: str | None, messages: list[Message]) -> str:
        del judge_id
        seen.append(messages[-1].content)
        return '{"pass": true, "reason": "ok"}'

    async def embed(texts: Sequence[str]) -> list[list[float]]:
        seen.extend(texts)
        return [[1.0, 0.0] for _ in texts]

    graders = Graders(embed=embed, judge=judge)
    assert graded("llm-rubric", "Greets {{user_name}} by name.", "Hi Priya", graders)
    assert "Greets Priya by name." in seen[0] and "{{user_name}}" not in seen[0]
    assert graded("similar", ["Hello {{user_name}}"], "Hi Priya", graders)
    assert seen[1:] == ["Hi Priya", "Hello Priya"]


def test_numbers_and_schemas_are_not_rendered() -> None:
    schema = Assertion(type="is-json", value={"const": "{{user_name}}"})
    assert render_assertion(schema, NAME) is schema
    count = Assertion(type="max-words", value=3)
    assert render_assertion(count, NAME) is count
    assert render_assertion(Assertion(type="contains", value="{{user_name}}"), {}).value == "{{user_name}}"


def test_grade_case_renders_and_reports_the_rendered_value() -> None:
    keyed = [("assert[0]", Assertion(type="contains", value="{{user_name}}"))]
    result = asyncio.run(grade_case(keyed, "Hi Sam", vars=NAME))
    assert not result.passed
    assert result.results[0].reason == 'does not contain "Priya", expected to contain "Priya"'


def test_the_runner_grades_with_each_case_vars(scripted: FakeOpenAI) -> None:
    proto = load(scripted)
    proto.cases[1].vars = {"fruit": "apple"}
    proto.cases[1].assert_ = [Assertion(type="contains", value="{{fruit}}")]
    proto.cases[0].vars = {"fruit": "banana"}
    proto.cases[0].assert_ = [
        Assertion(type="not-contains", value="{{fruit}}"),
        Assertion(type="llm-rubric", value="Lists colors, not {{fruit}}s.", judge="judge"),
    ]
    proto.default_assert = []
    scripted.enqueue(Reply(text='{"pass": true, "reason": "fine"}'), model="fake-judge")
    outcome = evaluate(proto, EvalOptions(profiles=["bullets"], models=["fake"]))
    reasons = [a.reason for r in outcome.eval_run.results for a in r.assertions]
    assert outcome.eval_run.pass_rate == 1.0, reasons
    judged = [r for r in scripted.chat_requests() if (r.body or {}).get("model") == "fake-judge"]
    assert "Lists colors, not bananas." in judged[0].messages[-1]["content"]
