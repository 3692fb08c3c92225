"""The tool assertions: `tool-call` / `no-tool-call` (name plus a subset match on the arguments) and
`valid-tool-call` (the arguments validate against the tool's JSON schema).

Calls are {id, name, arguments, result} dicts as stored in `Run.tool_calls` (the OpenAI shape
{function: {name, arguments}} is read too); arguments are the JSON text the model wrote.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.evals import textchecks as tc
from app.core.prototype import ToolCall, ToolSpec
from app.core.tools import parse_arguments, subset_match


@dataclass(frozen=True)
class Verdict:
    """Passed, what was found, and what was expected (and its opposite, for `not-`)."""

    passed: bool
    fact: str
    expected: str
    expected_not: str


def _call(raw: Mapping[str, Any]) -> ToolCall:
    function = raw.get("function")
    source: Mapping[str, Any] = function if isinstance(function, Mapping) else raw
    arguments = source.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments) if arguments is not None else ""
    name = source.get("name")
    return ToolCall(id=str(raw.get("id") or ""), name=name if isinstance(name, str) else "",
                    arguments=arguments)


def _shown(call: ToolCall) -> str:
    return f"{call.name}({tc.one_line(call.arguments, 50)})"


def _summary(calls: Sequence[ToolCall]) -> str:
    if not calls:
        return "called no tool"
    return "called " + ", ".join(_shown(call) for call in calls[:3]) + (" …" if len(calls) > 3 else "")


def tool_call(value: Any, raw_calls: Sequence[Mapping[str, Any]]) -> Verdict:
    """A call matches when its name is the value's (if any) and the value's `arguments` are a subset of
    its parsed arguments."""
    calls = [_call(raw) for raw in raw_calls]
    name: str | None = None
    wanted: Mapping[str, Any] | None = None
    if isinstance(value, str):
        name = value
    elif isinstance(value, Mapping):
        name = value.get("name")
        wanted = value.get("arguments")
    what = f"a call to {name}" if name else "a tool call"
    if wanted:
        what += f" with {tc.one_line(json.dumps(wanted, ensure_ascii=False), 60)}"
    no_what = "no " + what.removeprefix("a ")
    for call in calls:
        if name and call.name != name:
            continue
        if wanted:
            parsed, _ = parse_arguments(call)
            if parsed is None or not subset_match(wanted, parsed):
                continue
        return Verdict(True, f"called {_shown(call)}", what, no_what)
    return Verdict(False, _summary(calls), what, no_what)


def valid_tool_call(value: Any, raw_calls: Sequence[Mapping[str, Any]], tools: Sequence[ToolSpec]) -> Verdict:
    """At least one call (to the named tool, when given), and every such call's arguments validate."""
    import jsonschema  # here: start-up need not pay for it

    calls = [_call(raw) for raw in raw_calls]
    name = str(value) if value is not None else None
    chosen = [call for call in calls if name is None or call.name == name]
    what = f"valid calls to {name}" if name else "valid tool calls"
    if not chosen:
        return Verdict(False, _summary(calls), what, f"no {what}")
    specs = {tool.name: tool for tool in tools}
    for call in chosen:
        spec = specs.get(call.name)
        if spec is None:
            return Verdict(False, f"called {call.name}, which is not a tool of this prototype", what,
                           f"no {what}")
        parsed, why = parse_arguments(call)
        if parsed is None:
            return Verdict(False, f"{call.name}: {why}", what, f"no {what}")
        validator = jsonschema.validators.validator_for(spec.parameters)(spec.parameters)
        error = jsonschema.exceptions.best_match(validator.iter_errors(parsed))
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "arguments"
            fact = f"{call.name}: {where}: {tc.one_line(error.message, 80)}"
            return Verdict(False, fact, what, f"no {what}")
    shown = ", ".join(_shown(call) for call in chosen[:3])
    return Verdict(True, f"arguments validate: {shown}", what, f"no {what}")
