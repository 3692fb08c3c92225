"""Checks a model proposes with a generated case, and the rules that keep a bad one out of the file.

A proposal may carry up to `MAX_CHECKS` checks drawn from the probed rule: deterministic ones
(`icontains`, `not-icontains`, `regex`, `max-words`, `max-chars`) or an `llm-rubric`, which
grades against the rule's own text when the model gives no rubric. Each is validated exactly as a
hand-written assertion is (`check_assertion`, the same function `protostudio validate` uses); one
that fails is dropped with the reason, never written. The designer then ticks which to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.core.evals.assertions import AssertionSpecError, check_assertion, split_type
from app.core.evals.textchecks import quoted
from app.core.prototype import Assertion

MAX_CHECKS = 3
CHECK_TYPES = ("icontains", "not-icontains", "regex", "not-regex", "max-words", "max-chars", "llm-rubric")
"""What a proposal may check: the types a model can get right from a rule's text alone."""
COUNT_TYPES = frozenset({"max-words", "max-chars"})
VALUE_MAX_CHARS = 200

CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": list(CHECK_TYPES)},
        "value": {"type": "string", "maxLength": VALUE_MAX_CHARS},
    },
    "required": ["type", "value"],
    "additionalProperties": False,
}
"""One proposed check. `value` is text for every type (a number for the length limits), so the
schema stays valid for OpenAI's strict structured outputs."""


@dataclass(frozen=True)
class ProposedChecks:
    """The checks of one reply that pass validation, and a line per one dropped (with why)."""

    checks: tuple[Assertion, ...] = ()
    dropped: tuple[str, ...] = ()


def read_checks(raw: Any, rule_text: str) -> ProposedChecks:
    """Validate the `checks` of a model's reply. Never raises; `rule_text` is the rubric of an
    `llm-rubric` that came without one."""
    if raw is None:
        return ProposedChecks()
    if not isinstance(raw, list):
        return ProposedChecks(dropped=(f"checks: not a list ({quoted(str(raw), 40)})",))
    kept: list[Assertion] = []
    dropped: list[str] = []
    for item in raw:
        check = _one(item, rule_text)
        if isinstance(check, str):
            dropped.append(check)
        elif len(kept) >= MAX_CHECKS:
            dropped.append(f"{check.type}: more than {MAX_CHECKS} checks proposed")
        elif any(check.type == k.type and check.value == k.value for k in kept):
            dropped.append(f"{check.type}: the same check twice")
        else:
            kept.append(check)
    return ProposedChecks(tuple(kept), tuple(dropped))


def _one(item: Any, rule_text: str) -> Assertion | str:
    """The assertion, or why it is dropped."""
    if not isinstance(item, dict):
        return f"check {quoted(str(item), 40)}: not an object with a type and a value"
    kind = item.get("type")
    if not isinstance(kind, str) or not kind:
        return f"check {quoted(str(item), 40)}: no type"
    if kind not in CHECK_TYPES:
        return f"{kind}: not a check a proposal may carry (allowed: {', '.join(CHECK_TYPES)})"
    value: Any = item.get("value")
    if isinstance(value, str):
        value = value.strip()
    if kind == "llm-rubric" and not value:
        value = rule_text.strip()
    if kind in COUNT_TYPES:
        value = _count(value)
        if value is None:
            return f"{kind}: needs a whole number, got {quoted(str(item.get('value')), 40)}"
    if isinstance(value, str) and len(value) > VALUE_MAX_CHARS and kind != "llm-rubric":
        return f"{kind}: value longer than {VALUE_MAX_CHARS} characters"
    try:
        split_type(kind)
        assertion = Assertion(type=kind, value=value, description="proposed with the generated case")
        check_assertion(assertion)
    except (AssertionSpecError, ValidationError) as exc:
        why = " ".join(str(exc).split()).removeprefix(f"{kind}:").strip()
        return f"{kind}: {why[:160]}"
    return assertion


def check_words(check: Assertion) -> str:
    """One line for a proposed check, as the CLI and the review dialog show it."""
    value = check.value if check.type in COUNT_TYPES else quoted(str(check.value), 80)
    return f"{check.type} {value}"


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None
