"""`tool-call`, `no-tool-call` and `valid-tool-call` on recorded tool calls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.core.evals.assertions import AssertionSpecError, check_assertion, grade
from app.core.prototype import Assertion, AssertionResult, ToolCall, ToolSpec

CANVAS = ToolSpec(name="open_canvas", parameters={
    "type": "object", "properties": {"title": {"type": "string"}, "content": {"type": "string"}},
    "required": ["title", "content"]})
GOOD = ToolCall(id="1", name="open_canvas",
                arguments='{"title": "Launch post", "content": "Hi", "n": [1, 2]}')
MISSING = ToolCall(id="2", name="open_canvas", arguments='{"title": "Launch post"}')
BROKEN = ToolCall(id="3", name="open_canvas", arguments='{"title": ')
UNKNOWN = ToolCall(id="4", name="search", arguments="{}")


def run(type_: str, value: Any, calls: list[ToolCall]) -> AssertionResult:
    return asyncio.run(grade(Assertion(type=type_, value=value), "text", tool_calls=calls, tools=[CANVAS]))


@pytest.mark.parametrize(("type_", "value", "calls", "passed"), [
    ("tool-call", None, [GOOD], True),
    ("tool-call", None, [], False),
    ("tool-call", "open_canvas", [UNKNOWN, GOOD], True),
    ("tool-call", "update_canvas", [GOOD], False),
    ("tool-call", {"name": "open_canvas", "arguments": {"title": "Launch post", "n": [2]}}, [GOOD], True),
    ("tool-call", {"arguments": {"title": "Other"}}, [GOOD], False),
    ("tool-call", {"arguments": {"title": "Launch post"}}, [BROKEN], False),
    ("not-tool-call", "search", [GOOD], True),
    ("no-tool-call", None, [], True),
    ("no-tool-call", None, [UNKNOWN], False),
    ("no-tool-call", "search", [GOOD], True),
    ("valid-tool-call", None, [GOOD], True),
    ("valid-tool-call", None, [GOOD, MISSING], False),
    ("valid-tool-call", None, [BROKEN], False),
    ("valid-tool-call", None, [UNKNOWN], False),
    ("valid-tool-call", None, [], False),
    ("valid-tool-call", "open_canvas", [UNKNOWN, GOOD], True),
])
def test_tool_assertions(type_: str, value: Any, calls: list[ToolCall], passed: bool) -> None:
    result = run(type_, value, calls)
    assert result.passed is passed, result.reason
    assert result.score == (1.0 if passed else 0.0)


def test_reasons_say_what_was_called_and_what_is_wrong() -> None:
    assert run("tool-call", "update_canvas", [GOOD]).reason.startswith("called open_canvas(")
    assert "'content' is a required property" in run("valid-tool-call", None, [MISSING]).reason
    assert "arguments are not JSON" in run("valid-tool-call", None, [BROKEN]).reason
    assert run("tool-call", None, []).reason == "called no tool, expected a tool call"


@pytest.mark.parametrize("value", [3, {"nom": "x"}, {"name": ""}, {"arguments": "title"}, {}])
def test_bad_values_are_spec_errors(value: Any) -> None:
    with pytest.raises(AssertionSpecError):
        check_assertion(Assertion(type="tool-call", value=value))
