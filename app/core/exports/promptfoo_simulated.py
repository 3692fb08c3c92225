"""Simulated users in a promptfoo export, and back.

promptfoo has a simulated user of its own, the `promptfoo:simulated-user` provider set on a test
(`config.instructions`, `config.maxTurns`, the test var `initialMessages` for a conversation to
start from). It differs from ours in ways the export says out loud:

- its user is played by promptfoo's hosted model (the conversation and the promptfoo account
  email go to promptfoo's API), so `simulated_user.model` and `seed` cannot be exported;
- it has no fixed-message mode, so a `script:` is sent as instructions to say those messages
  word for word (approximate, noted);
- its output is the whole transcript (`User: ...\\n---\\nAssistant: ...`) with the messages in
  `metadata.messages`, so a check with `turn: last` gets a `transform` picking the last reply,
  and `turn: any|all` becomes a `javascript` check over every reply (types with no JavaScript
  form, e.g. `llm-rubric`, are not exported per reply and are kept in the test's metadata).

The user's messages reach the target inside a system message made from the prompt template, so
the template renders just the system text when the test var `protostudio_simulated` is set
(`promptfoo_template.SIMULATED_OPEN`). Everything promptfoo has no field for (persona, goal,
model, seed, script, which checks were not exported) is kept in the test's `metadata`, so an
import gives back the same case.
"""

from __future__ import annotations

import json
from typing import Any

from app.core.evals.assertions import AssertionSpecError, render_assertion, split_type
from app.core.exports.promptfoo_assertions import MARKER, javascript_body
from app.core.exports.promptfoo_replies import replies_js
from app.core.prototype import MAX_SIMULATED_TURNS, Assertion, Case, SimulatedUser

PROVIDER_ID = "promptfoo:simulated-user"
SIMULATED_VAR = "protostudio_simulated"
"""Test var that makes a profile's prompt render as its bare system text (what the simulated user
provider sends as the system message)."""
INITIAL_VAR = "initialMessages"
STOP = "###STOP###"
REMOTE_WARNING = (
    "promptfoo's simulated user runs on promptfoo's hosted service: it sends each conversation and "
    "your promptfoo account email to promptfoo's API (set PROMPTFOO_DISABLE_REMOTE_GENERATION=true to "
    "stop it; those tests then fail)"
)


def instructions(sim: SimulatedUser) -> str:
    """The simulated user's instructions: persona, goal, when to stop, and a script if any.

    Wrapped in a Nunjucks raw block when the text has template syntax: promptfoo renders
    instructions with the test's vars, Protostudio's simulator does not."""
    lines = [f"Persona: {sim.persona.strip() or 'an ordinary user'}",
             f"Goal: {sim.goal.strip() or 'get a useful answer'}"]
    if sim.script:
        lines.append("Send exactly these messages, one per turn and word for word, then stop:")
        lines.extend(f"{n}. {json.dumps(m, ensure_ascii=False)}" for n, m in enumerate(sim.script, 1))
    lines.append(f"When the goal is reached, or the assistant clearly cannot help, reply {STOP}.")
    text = "\n".join(lines)
    if any(mark in text for mark in ("{{", "{%", "{#")):
        text = "{% raw %}" + text.replace("{% endraw %}", "{ % endraw % }") + "{% endraw %}"
    return text


def provider(sim: SimulatedUser) -> dict[str, Any]:
    """The test's `provider`: promptfoo's simulated user with our limits."""
    return {"id": PROVIDER_ID, "config": {"maxTurns": sim.max_turns, "instructions": instructions(sim)}}


def notes_for(case: Case) -> list[str]:
    """What does not carry over for this case (one line each)."""
    sim = case.simulated_user
    if sim is None:
        return []
    out = []
    if sim.model is not None or sim.seed is not None:
        what = " and ".join(x for x in (f"model {sim.model!r}" if sim.model else "",
                                         f"seed {sim.seed}" if sim.seed is not None else "") if x)
        out.append(f"case {case.id!r}: simulated user {what} not exported: promptfoo's simulated user "
                   "always runs on promptfoo's hosted model (kept in the test's metadata)")
    if sim.script:
        out.append(f"case {case.id!r}: script approximated: promptfoo's simulated user has no fixed-message "
                   "mode, so its instructions ask it to send the script word for word")
    return out


def metadata_of(sim: SimulatedUser) -> dict[str, Any]:
    data: dict[str, Any] = sim.model_dump(mode="json", exclude_defaults=True)
    data["max_turns"] = sim.max_turns  # always: the import tells an exported test by it
    return data


def from_test(provider_value: Any, meta: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The case's `simulated_user` for a test whose `provider` is promptfoo's simulated user
    (None when it is not), and what was dropped."""
    pid = provider_value.get("id") if isinstance(provider_value, dict) else provider_value
    if pid != PROVIDER_ID:
        return None, []
    stored = meta.get("simulated_user")
    if isinstance(stored, dict):
        try:
            return SimulatedUser.model_validate(stored).model_dump(mode="json", exclude_defaults=True), []
        except ValueError:
            pass
    config = provider_value.get("config") if isinstance(provider_value, dict) else None
    config = config if isinstance(config, dict) else {}
    dropped: list[str] = []
    text = config.get("instructions")
    persona = text.strip() if isinstance(text, str) and text.strip() != "{{instructions}}" else ""
    max_turns = config.get("maxTurns", 10)
    if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1:
        dropped.append(f"simulated user maxTurns {max_turns!r} is not a positive whole number; 4 used")
        max_turns = 4
    if max_turns > MAX_SIMULATED_TURNS:
        dropped.append(f"simulated user maxTurns {max_turns} is over Protostudio's {MAX_SIMULATED_TURNS}; "
                       f"{MAX_SIMULATED_TURNS} used")
        max_turns = MAX_SIMULATED_TURNS
    for key in config:
        if key not in ("instructions", "maxTurns"):
            dropped.append(f"simulated user `{key}` dropped")
    sim: dict[str, Any] = {"persona": persona, "max_turns": max_turns}
    return sim, dropped


# -- checks over the conversation -------------------------------------------------------------------


def _text_check(base: str, value: Any) -> str | None:
    """JavaScript (a function body over `output`) for a text check, with Protostudio's semantics."""
    literal = json.dumps
    if base in ("contains", "icontains"):
        fold = ".toLowerCase()" if base == "icontains" else ""
        return f"return output{fold}.includes(String({literal(value, ensure_ascii=False)}){fold});"
    if base in ("contains-any", "contains-all", "icontains-any", "icontains-all"):
        fold = ".toLowerCase()" if base.startswith("i") else ""
        values = value if isinstance(value, list) else [value]
        method = "some" if base.endswith("-any") else "every"
        return (f"return {literal([str(v) for v in values], ensure_ascii=False)}"
                f".{method}((v) => output{fold}.includes(v{fold}));")
    if base == "starts-with":
        return f"return output.trimStart().startsWith({literal(str(value), ensure_ascii=False)});"
    if base == "equals":
        return f"return output.trim() === {literal(str(value).strip(), ensure_ascii=False)};"
    if base == "regex":
        pattern = literal(str(value), ensure_ascii=False)
        return javascript_body("regex", value) or f"return new RegExp({pattern}).test(output);"
    if base in ("max-words", "min-words"):
        op = "<=" if base == "max-words" else ">="
        return f"return output.split(/\\s+/).filter(Boolean).length {op} {int(value)};"
    if base in ("tool-call", "no-tool-call", "canvas-opened"):
        return None  # they read tool calls, which promptfoo's transcript does not keep per reply
    return javascript_body(base, value)


def over_replies(assertion: Assertion, case: Case, skip: int) -> tuple[str | None, str]:
    """A `javascript` check applying `assertion` to every reply (`turn: any` or `all`), or None with
    the reason it has no JavaScript form. Values are filled with the case's vars first."""
    try:
        base, negated = split_type(assertion.type)
    except AssertionSpecError:
        return None, f"assertion type {assertion.type!r} is unknown"
    rendered = render_assertion(assertion, case.vars)
    code = _text_check(base, rendered.value)
    if code is None:
        return None, (f"`{assertion.type}` with turn: {assertion.turn} has no JavaScript form to apply to "
                      "each reply in promptfoo")
    original: dict[str, Any] = {"type": assertion.type, "turn": assertion.turn}
    if assertion.value is not None:
        original["value"] = assertion.value
    method = "some" if assertion.turn == "any" else "every"
    indented = "\n".join("  " + line for line in code.splitlines())
    body = (
        f"const replies = {replies_js(skip)};\n"
        f"const check = (output) => {{\n{indented}\n}};\n"
        "const passes = (output) => { const r = check(output); "
        "return typeof r === 'object' && r !== null ? Boolean(r.pass) : Boolean(r); };\n"
        f"return replies.length > 0 && replies.{method}((r) => {'!' if negated else ''}passes(r));"
    )
    return MARKER + json.dumps(original, ensure_ascii=False) + "\n" + body, ""
