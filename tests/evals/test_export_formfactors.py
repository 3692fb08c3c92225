"""Form-factor assertions exported to promptfoo as `javascript` checks of the same meaning.

promptfoo runs a multi-line `javascript` value as the body of `new Function('output', 'context',
body)`; these tests check that shape, the round trip back, and (with node) that each check agrees
with Protostudio's grader on the same outputs.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from typing import Any

import pytest

from app.core.evals.assertions import grade
from app.core.exports.promptfoo_assertions import MARKER, Grading, from_promptfoo, to_promptfoo
from app.core.exports.promptfoo_template import parse_text
from app.core.prototype import Assertion

ASSERTIONS: list[tuple[str, Any]] = [
    ("voice-friendly", None),
    ("voice-friendly", 4),
    ("not-voice-friendly", None),
    ("fits-notification", None),
    ("fits-notification", {"phrase": "arrives  Friday", "platform": "android-collapsed"}),
    ("fits-notification", {"platform": "all"}),
    ("not-fits-notification", {"platform": "ios-banner"}),
    ("canvas-opened", None),
    ("canvas-opened", "Cover"),
    ("not-canvas-opened", None),
]

OUTPUTS: list[Any] = [
    "Sure. Your table is booked for eight tonight.",
    "Your order has shipped from our warehouse and arrives Friday.",
    "Your parcel arrives Friday, 9 to 12. " * 6,
    "**Booked** for eight, see https://example.com/b.",
    "Booked:\n- eight tonight\n- table 4",
    "word " * 12,
    "Great news 🎉 it is done 👍🏽",
    "[canvas: Cover letter]\nDear team,",
    "  [canvas:Launch post] x",
    "Here it is. [canvas: Cover letter]",
    "[canvas: ]\nempty",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "A" * 30 + " arrives Friday and more.",  # the phrase ends on android-collapsed's 45th character
    "A" * 31 + " arrives Friday",  # 46 characters
    "B" * 44 + "\n c",  # 45 characters once the newline is flattened
    "C" * 177 + "🎉",  # 178 code points
]

TOOL_OUTPUTS: list[tuple[Any, list[dict[str, Any]]]] = [
    # (what promptfoo's OpenAI provider hands the check, the same calls as Protostudio records them)
    (
        [{"id": "c1", "type": "function",
          "function": {"name": "open_canvas", "arguments": '{"title": "Cover letter", "content": "x"}'}}],
        [{"name": "open_canvas", "arguments": {"title": "Cover letter", "content": "x"}}],
    ),
    (
        {"content": "Drafting it now.", "tool_calls": [
            {"type": "function", "function": {"name": "open_canvas", "arguments": '{"title": "Spec"}'}}]},
        [{"name": "open_canvas", "arguments": '{"title": "Spec"}'}],
    ),
    (
        [{"type": "function", "function": {"name": "search", "arguments": "{}"}}],
        [{"name": "search", "arguments": {}}],
    ),
]


def _export(type_: str, value: Any) -> dict[str, Any]:
    mapped = to_promptfoo(Assertion(type=type_, value=value), Grading())
    assert mapped is not None
    return mapped.data


@pytest.mark.parametrize(
    ("type_", "value"), ASSERTIONS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(ASSERTIONS)]
)
def test_exported_as_a_marked_javascript_function_body(type_: str, value: Any) -> None:
    data = _export(type_, value)
    negated = type_.startswith("not-")
    assert data["type"] == ("not-javascript" if negated else "javascript")
    code = parse_text(data["value"])
    first, body = code.split("\n", 1)
    assert first.startswith(MARKER)
    assert json.loads(first[len(MARKER):])["type"] == type_.removeprefix("not-")
    assert "\n" in body and "return " in body  # promptfoo treats a multi-line value as a function body
    assert "{{" not in body and "{%" not in body  # nothing for Nunjucks to render
    restored, dropped = from_promptfoo(data, lambda _: None)
    assert dropped == []
    assert [(a.type, a.value) for a in restored] == [(type_, value)]


def test_comments_say_how_canvas_is_read() -> None:
    mapped = to_promptfoo(Assertion(type="canvas-opened"), Grading())
    assert mapped is not None
    assert any("open_canvas" in c and "tool_calls" in c for c in mapped.comments)


def _python_verdict(type_: str, value: Any, output: Any, calls: list[dict[str, Any]] | None) -> bool:
    text = output if isinstance(output, str) else ""
    if isinstance(output, dict):
        text = output.get("content", "")
    result = asyncio.run(grade(Assertion(type=type_, value=value), text, tool_calls=calls))
    return result.passed


@pytest.mark.node
def test_javascript_agrees_with_the_grader() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found: install Node.js to run the exported checks")
    jobs: list[dict[str, Any]] = []
    expected: list[bool] = []
    labels: list[str] = []
    for type_, value in ASSERTIONS:
        body = parse_text(_export(type_, value)["value"]).split("\n", 1)[1]
        negated = type_.startswith("not-")
        cases: list[tuple[Any, list[dict[str, Any]] | None]] = [(o, None) for o in OUTPUTS]
        if "canvas" in type_:
            cases += [(js_output, calls) for js_output, calls in TOOL_OUTPUTS]
        for output, calls in cases:
            jobs.append({"body": body, "output": output, "negated": negated})
            expected.append(_python_verdict(type_, value, output, calls))
            labels.append(f"{type_} {value!r} on {output!r}")
    script = (
        "const jobs = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "const out = jobs.map(({ body, output, negated }) => {\n"
        "  const r = new Function('output', 'context', body)(output, { vars: {} });\n"
        "  const pass = typeof r === 'object' ? r.pass : Boolean(r);\n"
        "  return negated ? !pass : pass;\n"
        "});\n"
        "process.stdout.write(JSON.stringify(out));\n"
    )
    done = subprocess.run(
        [node, "-e", script], input=json.dumps(jobs), capture_output=True, text=True, timeout=60, check=True
    )
    got = json.loads(done.stdout)
    disagree = [label for label, g, e in zip(labels, got, expected, strict=True) if g != e]
    assert disagree == []
    assert any(expected) and not all(expected)  # the outputs exercise both verdicts
