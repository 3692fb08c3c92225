"""`{{var}}` placeholders: the one renderer for everything a case's vars fill in.

The engine renders a case's vars into the messages it sends, and the graders render the
same vars into assertion values (texts, reference lists, rubric text) before checking, so an
assertion can say `contains: '{{user_name}}'` and mean the name the case used. promptfoo does
the same with a test's vars. One rule everywhere: spaces are allowed inside the braces, and an
unknown name is left as written, so a typo shows up instead of vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.prototype import Case, Profile

VAR_RE = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")
"""A placeholder; group 1 is the var name."""


def render_vars(text: str, values: Mapping[str, str]) -> str:
    """Replace `{{name}}` (spaces allowed inside the braces) with its value; unknown names stay as is."""
    if not values or "{{" not in text:
        return text
    return VAR_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def var_names(text: str) -> list[str]:
    """The placeholder names in `text`, in order of first use."""
    return list(dict.fromkeys(m.group(1) for m in VAR_RE.finditer(text)))


def unset_vars(case: Case, profiles: Sequence[Profile]) -> dict[str, str]:
    """Each `{{name}}` this case would send without a value, mapped to where it is first used.

    The messages a case sends are every ticked profile's system prompt, custom instructions and own
    turns (or the case's turns), so a name used there that the case's `vars` does not set reaches
    the model as the literal braces (`render_vars` leaves unknown names as written)."""
    places: list[tuple[str, str]] = []
    for profile in profiles:
        places.append((f"the system prompt of {profile.label}", profile.system_prompt))
        places.append((f"the custom instructions of {profile.label}", profile.custom_instructions))
        places.extend((f"a turn of {profile.label}", turn.content) for turn in profile.turns)
    places.extend((f"turn {i + 1}", turn.content) for i, turn in enumerate(case.turns))
    missing: dict[str, str] = {}
    for where, text in places:
        for name in var_names(text):
            if name not in case.vars and name not in missing:
                missing[name] = where
    return missing
