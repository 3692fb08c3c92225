"""The generation prompt: versioned, built from what the designer wrote, editable per user.

The prompt is a template with `{{placeholders}}` filled from the prototype (its description, the
system prompts of the profiles that state the rule, the rule and its good/bad examples) and the
probe (kind, persona). `PROMPT_VERSION` names the built-in text; an edited template is recorded as
`gen-2+custom-<hash>` in each case's `origin`, so a file says which prompt wrote its cases.

Why an edit is kept per user (`settings_dir()/generate_prompt.json`) and not in the prototype: the
prompt is how one designer likes to write tests, not part of the product's behavior; keeping it out
of the file leaves the format unchanged, and `origin.prompt_version` still tells prompts apart. The
GUI and `protostudio generate` read the same file, so both send the same prompt.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from app.core.atomic import write_atomic
from app.core.casegen.grid import PROBE_KINDS, Probe
from app.core.paths import settings_dir
from app.core.placeholders import render_vars
from app.core.prototype import Message, Prototype

PROMPT_VERSION = "gen-2"
"""Bump when the built-in template changes in a way that changes what models write."""

DEFAULT_SYSTEM = (
    "You write test cases for an AI assistant. A test case is one message that a real user types to the "
    "assistant, chosen to check one rule of its behavior, with checks that a good answer passes. Reply "
    'with a JSON object with three keys: "description", "user_message" and "checks".'
)

DEFAULT_USER = """\
The product: {{description}}

The assistant's instructions:
{{system_prompts}}

The rule to test (id {{rule_id}}):
{{rule}}
Answers that follow the rule:
{{good}}
Answers that break the rule:
{{bad}}

Messages users already sent (write a different one):
{{existing}}

Write one new test case of this kind: {{kind}}, that is {{kind_hint}}.
The user is {{persona}}.
In "user_message", write only what the user types to the assistant, in their own words.
In "description", say in one sentence what the case checks and what a good answer does.
In "checks", list up to 3 checks that follow from the rule, each {"type": ..., "value": ...}:
"icontains" / "not-icontains" (text a good answer has / never has, any case), "regex" / "not-regex"
(a pattern), "max-words" / "max-chars" (a limit, as a number), or "llm-rubric" (what a good answer
does, in one sentence). Use [] when no check follows from the rule."""

PLACEHOLDERS = (
    "description", "system_prompts", "rule_id", "rule", "good", "bad", "existing", "kind", "kind_hint",
    "persona",
)
"""What a template may use; anything else is left as written."""
EXISTING_SHOWN = 5
"""How many existing cases the prompt shows: enough to show the style, few enough to stay short."""


@dataclass(frozen=True)
class PromptTemplate:
    """The system message and the user message template of a generation request."""

    system: str = DEFAULT_SYSTEM
    user: str = DEFAULT_USER

    @property
    def version(self) -> str:
        """`gen-2` for the built-in text, `gen-2+custom-<8 hex>` for an edited one."""
        if self.is_default:
            return PROMPT_VERSION
        digest = hashlib.sha256(f"{self.system}\0{self.user}".encode()).hexdigest()[:8]
        return f"{PROMPT_VERSION}+custom-{digest}"

    @property
    def is_default(self) -> bool:
        return self.system == DEFAULT_SYSTEM and self.user == DEFAULT_USER


def probe_values(proto: Prototype, probe: Probe) -> dict[str, str]:
    """The placeholder values of one probe."""
    prompts = [p.system_prompt.strip() for p in probe.rule.profiles if p.system_prompt.strip()]
    rule = probe.rule.rule
    return {
        "description": proto.description.strip() or proto.name,
        "system_prompts": "\n---\n".join(dict.fromkeys(prompts)) or "(none)",
        "rule_id": probe.rule.id,
        "rule": rule.rule.strip(),
        "good": _examples(rule.good),
        "bad": _examples(rule.bad),
        "existing": _existing(proto, probe.rule.id),
        "kind": probe.kind,
        "kind_hint": PROBE_KINDS[probe.kind],
        "persona": probe.persona,
    }


def generation_messages(
    proto: Prototype, probe: Probe, template: PromptTemplate | None = None
) -> list[Message]:
    """The exact messages one probe sends (deterministic, so a seed reproduces a proposal)."""
    template = template or PromptTemplate()
    values = probe_values(proto, probe)
    return [
        Message(role="system", content=render_vars(template.system, values)),
        Message(role="user", content=render_vars(template.user, values)),
    ]


def _existing(proto: Prototype, rule_id: str) -> str:
    """The first user message of up to EXISTING_SHOWN cases, those probing this rule first."""
    cases = sorted(proto.cases, key=lambda case: rule_id not in case.probes)[:EXISTING_SHOWN]
    lines = []
    for case in cases:
        first = next((turn.content for turn in case.turns if turn.role == "user"), "")
        lines.append("- " + " ".join(render_vars(first, case.vars).split())[:200])
    return "\n".join(lines) or "(none yet)"


def _examples(examples: list[str]) -> str:
    if not examples:
        return "(none given)"
    return "\n".join("- " + " ".join(example.split()) for example in examples)


# -- the user's edited template ---------------------------------------------------------------------

_FILE = "generate_prompt.json"


def template_path() -> Path:
    return settings_dir() / _FILE


def load_template() -> PromptTemplate:
    """The user's saved template, else the built-in one (a damaged file reads as the built-in one)."""
    try:
        data = json.loads(template_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return PromptTemplate()
    if not isinstance(data, dict):
        return PromptTemplate()
    system, user = data.get("system"), data.get("user")
    if not isinstance(system, str) or not isinstance(user, str) or not user.strip():
        return PromptTemplate()
    return PromptTemplate(system=system, user=user)


def save_template(template: PromptTemplate) -> None:
    """Keep an edited template for this user; saving the built-in one removes the edit."""
    path = template_path()
    if template.is_default:
        path.unlink(missing_ok=True)
        return
    text = json.dumps({"system": template.system, "user": template.user}, indent=2, ensure_ascii=False)
    write_atomic(path, text.encode("utf-8"))
