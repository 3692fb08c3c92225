"""Tools (function calling): what a profile offers the model, what the app answers, and the exchange.

One home for every rule the engine, staleness, exports and the GUI share:
- `request_params`: a target's params plus the profile's tools as OpenAI `tools` (and `tool_choice`
  when a tool is `required`). Runs record these params, so editing a tool marks answers out of date.
- `mock_result`: the case's `tool_mocks[name]`, else the tool's `mock`, as the text sent back.
- `exchange_messages`: the assistant message carrying a round's calls, then one `tool` message each.
- `no_call_notice`: what a cell says when tools were offered and the model called none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from app.core import jsontext
from app.core.prototype import Case, Message, ModelParams, Profile, Prototype, ToolCall, ToolSpec

MAX_TOOL_ROUNDS = 4
"""How many times one cell answers tool calls before it stops: a model that keeps calling is cut off
with a notice instead of looping (each round is a full request)."""

NO_MOCK_RESULT = "ok"
"""What the app answers a call to a tool with no `mock` (and no case override)."""


def offered_tools(proto: Prototype, profile: Profile) -> list[ToolSpec]:
    """The prototype's tools this profile lists, in the profile's order (unknown names are skipped:
    loading reports them)."""
    by_name = {tool.name: tool for tool in proto.tools}
    return [by_name[name] for name in profile.tools if name in by_name]


def openai_tool(tool: ToolSpec) -> dict[str, Any]:
    """One tool as OpenAI's `{type: function, function: {name, description, parameters}}`."""
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    function["parameters"] = tool.parameters
    return {"type": "function", "function": function}


def tool_choice(tools: Sequence[ToolSpec]) -> str | dict[str, Any] | None:
    """`None` (auto) unless a tool is required: one required tool is named, several mean `required`."""
    required = [tool for tool in tools if tool.required]
    if not required:
        return None
    if len(required) == 1:
        return {"type": "function", "function": {"name": required[0].name}}
    return "required"


def request_params(proto: Prototype | None, profile: Profile, params: ModelParams) -> ModelParams:
    """The params a cell of this profile sends: the target's, plus the profile's tools.

    A target's own `tools` (set by hand in its params) come first; the profile's are added after them."""
    if proto is None or not profile.tools:
        return params
    tools = offered_tools(proto, profile)
    if not tools:
        return params
    own = list(params.tools or [])
    names = {t.get("function", {}).get("name") for t in own if isinstance(t, dict)}
    merged = own + [openai_tool(tool) for tool in tools if tool.name not in names]
    update: dict[str, Any] = {"tools": merged}
    choice = tool_choice(tools)
    if choice is not None and params.tool_choice is None:
        update["tool_choice"] = choice
    return params.model_copy(update=update)


def offered_names(params: ModelParams) -> list[str]:
    """The function names a request with these params offers."""
    names: list[str] = []
    for tool in params.tools or ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names


def as_text(value: Any) -> str:
    """A mock as the text of a `tool` message: text as is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def mock_results(proto: Prototype | None, case: Case | None) -> dict[str, str]:
    """Per tool name, what the app answers a call in this case: the case's `tool_mocks` override, else
    the tool's `mock`, else "ok"."""
    results: dict[str, str] = {}
    for tool in proto.tools if proto is not None else ():
        if case is not None and tool.name in case.tool_mocks:
            results[tool.name] = as_text(case.tool_mocks[tool.name])
        else:
            results[tool.name] = NO_MOCK_RESULT if tool.mock is None else as_text(tool.mock)
    return results


def answer_call(results: Mapping[str, str], name: str) -> str:
    """The result sent back for a call to `name`. A tool the prototype does not define (the model made
    it up) gets an error text the model can read, instead of stopping the run."""
    if name in results:
        return results[name]
    known = ", ".join(sorted(results)) or "none"
    return as_text({"error": f"unknown tool {name!r}; available: {known}"})


def exchange_messages(text: str, calls: Sequence[ToolCall]) -> list[Message]:
    """The messages one tool round adds: the assistant's (its text and calls), then each result."""
    messages = [Message(role="assistant", content=text, tool_calls=list(calls))]
    messages.extend(
        Message(role="tool", content=call.result or "", tool_call_id=call.id) for call in calls
    )
    return messages


def without_tool_rounds(messages: Sequence[Message]) -> list[Message]:
    """A request's messages without its tool rounds (`exchange_messages`): what the people in the
    conversation said. A run that called a tool stores the rounds in its messages while its output
    already holds the round's text, so a chat drawn from both showed that text twice and the
    tool's JSON as if the assistant had said it; the calls show as chips instead."""
    return [m for m in messages if m.role != "tool" and not m.tool_calls]


def no_call_notice(offered: Sequence[str]) -> str:
    """The plain notice a cell shows when it offered tools and the model called none."""
    return f"this model did not call any tool; offered: {', '.join(offered)}"


def call_summary(call: ToolCall, width: int = 24) -> str:
    """A call in one short line, e.g. `open_canvas(title: "Launch post", content: "Offline mode is…")`:
    what the CLI prints and a chip can show before it is expanded."""
    parsed, _ = parse_arguments(call)
    if parsed is None:
        shown = call.arguments if len(call.arguments) <= width else call.arguments[: width - 1] + "…"
        return f"{call.name}({shown})"
    parts = []
    for key, value in parsed.items():
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        text = " ".join(text.split())
        text = text if len(text) <= width else text[: width - 1].rstrip() + "…"
        parts.append(f'{key}: "{text}"' if isinstance(value, str) else f"{key}: {text}")
    return f"{call.name}({', '.join(parts)})"


def calls_summary(calls: Sequence[ToolCall]) -> str:
    """The calls of a run, compactly: `[open_canvas(title: "…")]`, `[+2 more]` past the first two."""
    if not calls:
        return ""
    shown = [call_summary(call) for call in calls[:2]]
    more = f" +{len(calls) - 2} more" if len(calls) > 2 else ""
    return "[" + "; ".join(shown) + more + "]"


def parse_arguments(call: ToolCall) -> tuple[dict[str, Any] | None, str]:
    """The call's arguments as a dict, or (None, why not). Empty text counts as `{}`."""
    if not call.arguments.strip():
        return {}, ""
    try:
        value = jsontext.loads(call.arguments)
    except json.JSONDecodeError as exc:
        return None, f"arguments are not JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(value, dict):
        return None, "arguments are not a JSON object"
    return value, ""


def subset_match(expected: Any, actual: Any) -> bool:
    """Whether `expected` is contained in `actual`: every key of a mapping (recursively), every item of
    a list in order-free fashion, and equal scalars (numbers compare by value)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and subset_match(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            any(subset_match(item, candidate) for candidate in actual) for item in expected
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def tool_problems(proto: Prototype) -> list[tuple[tuple[str | int, ...], str]]:
    """(YAML path, message) for duplicate tool names, profiles listing unknown tools, and case mocks
    for tools the prototype does not define."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    names: dict[str, int] = {}
    for index, tool in enumerate(proto.tools):
        if tool.name in names:
            found.append((("tools", index, "name"), f"duplicate tool name {tool.name!r} "
                          f"(first used at tools[{names[tool.name]}])"))
        else:
            names[tool.name] = index
    known = ", ".join(names) or "none"
    for p_index, profile in enumerate(proto.profiles):
        for t_index, name in enumerate(profile.tools):
            if name not in names:
                found.append((("profiles", p_index, "tools", t_index),
                              f"profile {profile.id!r} offers unknown tool {name!r} (known: {known})"))
    for c_index, case in enumerate(proto.cases):
        for name in case.tool_mocks:
            if name not in names:
                found.append((("cases", c_index, "tool_mocks", name),
                              f"case {case.id!r} mocks unknown tool {name!r} (known: {known})"))
    return found


__all__ = [
    "MAX_TOOL_ROUNDS",
    "NO_MOCK_RESULT",
    "answer_call",
    "as_text",
    "call_summary",
    "calls_summary",
    "exchange_messages",
    "mock_results",
    "no_call_notice",
    "offered_names",
    "offered_tools",
    "openai_tool",
    "parse_arguments",
    "request_params",
    "subset_match",
    "tool_choice",
    "tool_problems",
]
