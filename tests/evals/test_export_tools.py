"""Tools and the tool assertions exported to promptfoo, and back."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_export_kit import endpoints, messages

from app.core.document import load_prototype
from app.core.evals.assertions import grade
from app.core.exports.promptfoo import export_promptfoo
from app.core.exports.promptfoo_assertions import MARKER, Grading, from_promptfoo, to_promptfoo
from app.core.exports.promptfoo_import import import_promptfoo_text
from app.core.exports.promptfoo_template import parse_text
from app.core.prototype import Assertion

EXAMPLE = Path(__file__).resolve().parents[2] / "prototypes" / "canvas-trigger.yaml"

ASSERTIONS: list[tuple[str, Any]] = [
    ("tool-call", None),
    ("tool-call", "open_canvas"),
    ("tool-call", {"name": "open_canvas", "arguments": {"title": "Cover letter"}}),
    ("not-tool-call", "search"),
    ("no-tool-call", None),
    ("no-tool-call", {"arguments": {"title": "Spec"}}),
]

OUTPUTS: list[tuple[Any, list[dict[str, Any]]]] = [
    # (what promptfoo's OpenAI provider hands the check, the same calls as Protostudio records them)
    ([{"id": "c1", "type": "function",
       "function": {"name": "open_canvas", "arguments": '{"title": "Cover letter", "content": "x"}'}}],
     [{"name": "open_canvas", "arguments": '{"title": "Cover letter", "content": "x"}'}]),
    ({"content": "Drafting it now.", "tool_calls": [
        {"type": "function", "function": {"name": "open_canvas", "arguments": '{"title": "Spec"}'}}]},
     [{"name": "open_canvas", "arguments": '{"title": "Spec"}'}]),
    ([{"type": "function", "function": {"name": "search", "arguments": "{}"}}],
     [{"name": "search", "arguments": "{}"}]),
    ("Just text.", []),
]


def _export(type_: str, value: Any) -> dict[str, Any]:
    mapped = to_promptfoo(Assertion(type=type_, value=value), Grading())
    assert mapped is not None
    return mapped.data


@pytest.mark.parametrize(("type_", "value"), ASSERTIONS,
                         ids=[f"{t}-{i}" for i, (t, _) in enumerate(ASSERTIONS)])
def test_tool_call_checks_export_as_marked_javascript_and_come_back(type_: str, value: Any) -> None:
    data = _export(type_, value)
    assert data["type"] == ("not-javascript" if type_.startswith("not-") else "javascript")
    first = parse_text(data["value"]).split("\n", 1)[0]
    assert first.startswith(MARKER)
    restored, dropped = from_promptfoo(data, lambda _: None)
    assert dropped == [] and [(a.type, a.value) for a in restored] == [(type_, value)]


def test_valid_tool_call_is_promptfoos_own_check() -> None:
    assert _export("valid-tool-call", None) == {"type": "is-valid-openai-tools-call"}
    restored, dropped = from_promptfoo({"type": "is-valid-openai-tools-call"}, lambda _: None)
    assert dropped == [] and [(a.type, a.value) for a in restored] == [("valid-tool-call", None)]


@pytest.mark.node
def test_exported_tool_checks_agree_with_the_grader() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found: install Node.js to run the exported checks")
    jobs, expected, labels = [], [], []
    for type_, value in ASSERTIONS:
        body = parse_text(_export(type_, value)["value"]).split("\n", 1)[1]
        for output, calls in OUTPUTS:
            jobs.append({"body": body, "output": output, "negated": type_.startswith("not-")})
            text = output if isinstance(output, str) else ""
            verdict = asyncio.run(grade(Assertion(type=type_, value=value), text, tool_calls=calls))
            expected.append(verdict.passed)
            labels.append(f"{type_} {value!r} on {output!r}")
    script = (
        "const jobs = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "process.stdout.write(JSON.stringify(jobs.map(({ body, output, negated }) => {\n"
        "  const r = new Function('output', 'context', body)(output, { vars: {} });\n"
        "  return negated ? !r.pass : r.pass;\n"
        "})));\n"
    )
    done = subprocess.run([node, "-e", script], input=json.dumps(jobs), capture_output=True, text=True,
                          timeout=60, check=True)
    got = json.loads(done.stdout)
    assert [label for label, g, e in zip(labels, got, expected, strict=True) if g != e] == []
    assert any(expected) and not all(expected)


def test_canvas_example_exports_its_tools_and_imports_them_back() -> None:
    proto = load_prototype(EXAMPLE)
    result = export_promptfoo(proto, messages, endpoints())
    config = yaml.safe_load(result.files["promptfooconfig.yaml"])
    prompts = {p["label"]: p for p in config["prompts"]}
    offered = [t["function"]["name"] for t in prompts["canvas-for-documents"]["config"]["tools"]]
    assert offered == ["open_canvas", "update_canvas"]
    assert "config" not in prompts["always-chat"]
    assert any("tool mocks not exported" in note for note in result.notes)
    back = import_promptfoo_text(result.files["promptfooconfig.yaml"], Path("."), "x", endpoints()).prototype
    assert back.tools == proto.tools
    assert [p.tools for p in back.profiles] == [p.tools for p in proto.profiles]
    assert [c.tool_mocks for c in back.cases] == [c.tool_mocks for c in proto.cases]
    types = [[a.type for a in c.assert_] for c in back.cases]
    assert types == [[a.type for a in c.assert_] for c in proto.cases]
