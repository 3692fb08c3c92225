"""JSON nested past Python's recursion limit, from a model or a file, is unreadable JSON, never a crash.

`json.loads` raises RecursionError (not ValueError) for it, which slipped past every `except
ValueError` that means "not JSON": one line of brackets from a model crashed `is-json`."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.core import jsontext
from app.core.casegen.reply import ReplyProblem, read_reply
from app.core.evals import transforms
from app.core.evals.assertions import grade
from app.core.formfactors.canvas import OPEN_TOOL, canvas_opened
from app.core.prototype import Assertion, ToolCall
from app.core.tools import parse_arguments

DEEP = "[" * 3000 + "]" * 3000  # valid JSON, too deep for json.loads
UNCLOSED = "{\"a\": " * 50_000


@pytest.mark.parametrize("text", [DEEP, UNCLOSED])
def test_loads_reports_deep_nesting_as_unreadable_json(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        jsontext.loads(text)
    assert info.value.msg == jsontext.MAX_DEPTH_MESSAGE
    assert 500 <= info.value.pos < 3000 * 6  # at the bracket that went past 500 levels, not at 0


def test_loads_reads_ordinary_json_as_json_loads_does() -> None:
    text = '{"a": [1, 2.5, "x\\"]"], "b": {"c": null}}'
    assert jsontext.loads(text) == json.loads(text)
    assert jsontext.loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize("kind", ["is-json", "not-is-json"])
def test_is_json_grades_deep_output_as_not_json(kind: str) -> None:
    result = asyncio.run(grade(Assertion(type=kind), DEEP))
    assert result.passed is (kind == "not-is-json")
    assert "nested too deep" in result.reason


def test_json_transform_leaves_deep_output_as_it_is() -> None:
    assert transforms.TRANSFORMS["JSON.stringify(JSON.parse(output))"](DEEP) == DEEP


def test_tool_arguments_nested_too_deep_are_not_json() -> None:
    arguments, problem = parse_arguments(ToolCall(id="c1", name="open_canvas", arguments=DEEP))
    assert arguments is None and "nested too deep" in problem


def test_canvas_call_with_deep_arguments_reads_as_no_arguments() -> None:
    opening = canvas_opened("", [{"name": OPEN_TOOL, "arguments": DEEP}])
    assert (opening.opened, opening.via, opening.title) == (True, "tool", "")


@pytest.mark.parametrize("reply", [DEEP, "Here it is: " + "{\"a\": " * 2000 + "1" + "}" * 2000])
def test_generated_case_reply_nested_too_deep_is_a_problem_not_a_crash(reply: str) -> None:
    outcome = read_reply(reply)
    assert isinstance(outcome, ReplyProblem)  # the deepest readable object has no user_message
