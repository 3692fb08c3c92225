"""`llm-rubric`: the prompt a judge model gets, the schema of its verdict, and a forgiving reader.

Judges are asked for `{"reason": "...", "pass": true|false}`. Where the judge's endpoint enforces a
JSON schema (the bundled model always does, by grammar-constrained decoding), `VERDICT_FORMAT` makes
any other answer impossible. Other judges may wrap it in prose or a code fence, or just say
"PASS: ..." so the reader accepts any of those: the first JSON object with a pass-like key, else a
first word of pass/fail/yes/no.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from app.core.evals.textchecks import one_line
from app.core.placeholders import render_vars
from app.core.prototype import Message

JUDGE_SYSTEM = (
    "You are a strict grader. You check one response from an AI assistant against a rubric. "
    'Reply with only a JSON object: {"reason": "one short sentence", "pass": true or false}.'
)

REASON_MAX_CHARS = 200
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    # the reason comes first, so a judge that writes left to right decides after saying why
    "properties": {
        "reason": {"type": "string", "minLength": 1, "maxLength": REASON_MAX_CHARS},
        "pass": {"type": "boolean"},
    },
    "required": ["reason", "pass"],
    "additionalProperties": False,
}
"""A verdict. `maxLength` keeps a complete verdict well inside the judge's token cap."""
VERDICT_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "verdict", "schema": VERDICT_SCHEMA, "strict": True},
}
"""The OpenAI `response_format` that asks for a `VERDICT_SCHEMA` object."""

_TRUE = {"true", "pass", "passed", "yes", "y", "1", "ok"}
_FALSE = {"false", "fail", "failed", "no", "n", "0"}
_PASS_KEYS = ("pass", "passed", "verdict", "result", "pass_fail")
_FIRST_WORD_RE = re.compile(
    r"^[\s*_#`>\"']*(pass(?:ed)?|fail(?:ed)?|yes|no)\b[\s*_`\"'.:,;!-]*(.*)$", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str
    score: float | None = None


def rubric_messages(rubric: str, output: str, prompt: str = "") -> list[Message]:
    """The judge conversation for one output. `prompt` is the user's last message, for context."""
    parts = [f"Rubric:\n{rubric.strip()}"]
    if prompt.strip():
        parts.append(f"The user said:\n{prompt.strip()}")
    parts.append(f"The response to grade:\n{output.strip() or '(empty response)'}")
    parts.append(
        'Does the response satisfy the rubric? Answer with the JSON object only: "reason" says why in one '
        'short sentence, "pass" is true or false.'
    )
    return [Message(role="system", content=JUDGE_SYSTEM), Message(role="user", content="\n\n".join(parts))]


def custom_rubric_messages(template: str, rubric: str, output: str) -> list[Message]:
    """The judge conversation from a user's own rubric prompt (promptfoo's `rubricPrompt`): `{{output}}`
    and `{{rubric}}` filled in; a JSON list of chat messages is sent as those messages, other text as
    one user message."""
    values = {"output": output, "rubric": rubric}
    try:
        data = json.loads(template)
    except ValueError:
        data = None
    if isinstance(data, list) and data and all(
        isinstance(m, dict) and m.get("role") in ("system", "user", "assistant")
        and isinstance(m.get("content"), str)
        for m in data
    ):
        return [Message(role=m["role"], content=render_vars(m["content"], values)) for m in data]
    return [Message(role="user", content=render_vars(template, values))]


def parse_verdict(text: str) -> Verdict:
    """Read a judge's answer. Raises ValueError quoting the answer when it says neither pass nor fail."""
    for data in _json_objects(text):
        verdict = _from_mapping(data)
        if verdict is not None:
            return verdict
    match = _FIRST_WORD_RE.match(text.strip())
    if match:
        word = match.group(1).lower()
        return Verdict(word in _TRUE or word.startswith("pass"), one_line(match.group(2), 160))
    raise ValueError(
        f'judge answer not understood (expected JSON with "pass" or PASS/FAIL): "{one_line(text, 80)}"'
    )


def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object that starts at a `{` in `text`, in order."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    index = text.find("{")
    while index != -1 and len(found) < 5:
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            index = text.find("{", index + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        index = text.find("{", end)
    return found


def _from_mapping(data: dict[str, Any]) -> Verdict | None:
    lowered = {str(k).lower(): v for k, v in data.items()}
    raw = next((lowered[k] for k in _PASS_KEYS if k in lowered), None)
    passed = _truthy(raw)
    score = _score(lowered.get("score"))
    if passed is None and score is not None:
        passed = score >= 0.5
    if passed is None:
        return None
    reason = lowered.get("reason") or lowered.get("explanation") or lowered.get("rationale") or ""
    return Verdict(passed, one_line(str(reason), 160), score)


def _truthy(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value >= 0.5
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= 1 else None
