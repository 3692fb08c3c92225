"""Assertion values as one line of text and back, for table editors. Lists and schemas are JSON."""

from __future__ import annotations

import json
from typing import Any

from app.core import jsontext
from app.core.evals.assertions import TYPES, AssertionSpecError, split_type


def value_to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def value_from_text(type_name: str, text: str) -> Any:
    """The value a type expects, parsed from what a person typed. Unparseable text is kept as text,
    so nothing typed is lost; `check_assertion` then says what is wrong with it."""
    raw = text.strip()
    try:
        base, _ = split_type(type_name)
    except AssertionSpecError:
        return text or None
    kind = TYPES[base].value
    if not raw:
        return None
    if kind == "count":
        try:
            return int(raw)
        except ValueError:
            return text
    if kind == "texts" and raw.startswith("["):
        return _json_or(text, list)
    if kind in {"schema", "notification"}:
        return _json_or(text, dict)
    if kind == "seconds":
        try:
            number = float(raw)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return text


def _json_or(text: str, kind: type) -> Any:
    try:
        value = jsontext.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, kind) else text
