"""Core tool rules: what a profile's requests offer, mocks, the compact summary, merging tools."""

from __future__ import annotations

from app.core.merge import Side, merge
from app.core.prototype import Case, ModelParams, Profile, Prototype, ToolCall, ToolSpec, Turn
from app.core.tools import answer_call, call_summary, mock_results, request_params, subset_match

A = ToolSpec(name="a", description="first", mock={"ok": True})
B = ToolSpec(name="b", required=True)
C = ToolSpec(name="c", required=True, mock="done")


def proto(*tools: ToolSpec) -> Prototype:
    return Prototype(name="t", tools=list(tools), cases=[Case(id="c", turns=[Turn(content="hi")])])


def test_request_params_offer_only_the_profiles_tools_and_force_a_required_one() -> None:
    p = proto(A, B, C)
    none = request_params(p, Profile(id="x"), ModelParams(temperature=0.2))
    assert none == ModelParams(temperature=0.2)
    one = request_params(p, Profile(id="x", tools=["a", "b"]), ModelParams())
    assert [t["function"]["name"] for t in one.tools or []] == ["a", "b"]
    assert one.tool_choice == {"type": "function", "function": {"name": "b"}}
    both = request_params(p, Profile(id="x", tools=["b", "c"]), ModelParams(tool_choice="none"))
    assert both.tool_choice == "none", "a target's own tool_choice wins"
    assert request_params(p, Profile(id="x", tools=["b", "c"]), ModelParams()).tool_choice == "required"


def test_mocks_case_override_default_and_made_up_tools() -> None:
    p = proto(A, B, C)
    p.cases[0].tool_mocks = {"c": {"n": 2}}
    results = mock_results(p, p.cases[0])
    assert results == {"a": '{"ok":true}', "b": "ok", "c": '{"n":2}'}
    assert "unknown tool 'zzz'" in answer_call(results, "zzz")


def test_subset_match_and_summary() -> None:
    assert subset_match({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3})
    assert subset_match({"l": [2]}, {"l": [1, 2]}) and not subset_match({"l": [3]}, {"l": [1, 2]})
    assert not subset_match({"x": 1}, {"x": True}) and subset_match(1, 1.0)
    call = ToolCall(name="open_canvas", arguments='{"title": "A very long title that goes on", "n": 3}')
    assert call_summary(call) == 'open_canvas(title: "A very long title that…", n: 3)'
    assert call_summary(ToolCall(name="f", arguments="{oops")) == "f({oops)"


def test_three_way_merge_merges_tools_by_name() -> None:
    base = "protostudio: 3\nname: t\ntools:\n  - name: a\n    description: x\n  - name: b\n"
    ours = base.replace("description: x", "description: changed")
    theirs = base + "    description: new\n  - name: c\n"
    result = merge(Side.parse(base, "base"), Side.parse(ours, "ours"), Side.parse(theirs, "theirs"))
    assert result.conflicts == []
    merged = [(t.name, t.description) for t in result.proto.tools]
    assert merged == [("a", "changed"), ("b", "new"), ("c", "")]


def test_streamed_call_deltas_assemble_whatever_the_server_repeats() -> None:
    from app.providers.wire import CallAssembler

    calls = CallAssembler()
    calls.add({"index": 0, "function": {"name": "open_canvas", "arguments": '{"ti'}})  # no id (some servers)
    calls.add({"index": 0, "function": {"name": "open_canvas", "arguments": 'tle": "T"}'}})  # name repeated
    calls.add({"index": 1, "id": "call_b", "function": {"name": "update_", "arguments": ""}})
    calls.add({"index": 1, "function": {"name": "canvas", "arguments": "{}"}})  # name in fragments
    calls.add("not a delta")
    done = calls.finished()
    assert [(c.id, c.name, c.arguments) for c in done] == [
        ("call_0", "open_canvas", '{"title": "T"}'), ("call_b", "update_canvas", "{}")]


def test_a_changed_image_or_tool_makes_the_answer_stale() -> None:
    from app.core.messages import build_messages
    from app.core.prototype import ImageRef, ModelTarget, Run
    from app.core.threads import cell_states

    p = proto(A)
    p.profiles = [Profile(id="x", tools=["a"])]
    p.models = [ModelTarget(id="m", provider="openai", model="gpt")]
    p.cases[0].turns[0].images = [ImageRef(path="a.png", sha256="a" * 64)]
    sent = build_messages(p, p.profiles[0], p.cases[0])
    params = request_params(p, p.profiles[0], p.models[0].params)
    p.runs = [Run(id="r", created="t", profile="x", model="m", case="c", provider="openai", model_name="gpt",
                  params=params, messages=sent, output="ok")]
    assert not cell_states(p)[("c", "x", "m", 0)].stale
    p.cases[0].turns[0].images = [ImageRef(path="a.png", sha256="b" * 64)]
    assert cell_states(p)[("c", "x", "m", 0)].stale, "a re-attached image"
    p.cases[0].turns[0].images = [ImageRef(path="a.png", sha256="a" * 64)]
    p.tools[0] = p.tools[0].model_copy(update={"parameters": {"type": "object", "properties": {"q": {}}}})
    assert cell_states(p)[("c", "x", "m", 0)].stale, "an edited tool schema"
