"""`{{var}}` placeholders: the one renderer for everything a case's vars fill in.

The engine renders a case's vars into the messages it sends, and the graders render the
same vars into assertion values (texts, reference lists, rubric text) before checking, so an
assertion can say `contains: '{{user_name}}'` and mean the name the case used. promptfoo does
the same with a test's vars. One rule everywhere: spaces are allowed inside the braces, and an
unknown name is left as written, so a typo shows up instead of vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VAR_RE = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")
"""A placeholder; group 1 is the var name."""


def render_vars(text: str, values: Mapping[str, str]) -> str:
    """Replace `{{name}}` (spaces allowed inside the braces) with its value; unknown names stay as is."""
    if not values or "{{" not in text:
        return text
    return VAR_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
