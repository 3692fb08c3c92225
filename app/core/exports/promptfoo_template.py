"""The promptfoo prompt for one profile, as a Nunjucks template, and its exact inverse.

promptfoo renders a prompt with Nunjucks, then the OpenAI provider parses the result as a JSON
list of chat messages. Our template is:

    {% set system %}<system text>{% endset -%}
    [{"role": "system", "content": {{ system | dump }}}{% for m in messages %}, {{ m | dump }}{% endfor %}]

- The system text is the profile's whole system message (as the engine builds it) with its
  `{{var}}` placeholders kept, so promptfoo fills them from each test's vars. `dump` makes the
  result valid JSON whatever the values contain.
- A placeholder becomes `{{ name if name is defined else "{{name}}" }}`: Protostudio leaves an
  unknown placeholder as written, while plain Nunjucks would print nothing.
- Literal text that Nunjucks would read as syntax (`{{`, `{%`, `{#`, ...) becomes a quoted
  Nunjucks string, with every brace, `%` and `#` backslash-escaped so no delimiter survives.
- `messages` is a test var: the case's turns, already rendered with its vars.

`text_template` is the same escaping for any text promptfoo renders with a test's vars
(assertion values); `parse_template` / `parse_text` read them back.
"""

from __future__ import annotations

import re

from app.core.placeholders import VAR_RE

MESSAGES_VAR = "messages"
"""The test var holding a case's rendered turns."""

_IDENT_RE = re.compile(r"^[A-Za-z_]\w*$")
_NUNJUCKS_WORDS = frozenset({
    "and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "null", "True", "False", "None",
    "loop", "system", "messages", "env", "m",
})
"""Names a placeholder cannot use as a bare Nunjucks identifier (keywords, or names the template binds)."""
_SPECIAL = ("{{", "{%", "{#", "}}", "%}", "#}")

SYSTEM_OPEN = "{% set system %}"
SYSTEM_CLOSE = "{% endset -%}\n"
_LOOP = "{% for m in " + MESSAGES_VAR + " %}"
WITH_SYSTEM_TAIL = (
    '[{"role": "system", "content": {{ system | dump }}}' + _LOOP + ", {{ m | dump }}{% endfor %}]"
)
NO_SYSTEM = "[" + _LOOP + "{% if not loop.first %}, {% endif %}{{ m | dump }}{% endfor %}]"


SIMULATED_OPEN = (
    "{% if protostudio_simulated is defined %}{{ system if system is defined else \"\" }}{% else %}"
)
SIMULATED_CLOSE = "{% endif %}"
"""A prompt's branch for promptfoo's simulated user, which sends the rendered prompt as the system
message: with the test var `protostudio_simulated` set, the prompt is just the system text."""


def with_simulated_branch(template: str) -> str:
    """`template` rendering as its bare system text when the test var `protostudio_simulated` is set."""
    split = template.rfind(SYSTEM_CLOSE)
    head_end = split + len(SYSTEM_CLOSE) if split >= 0 else 0
    return template[:head_end] + SIMULATED_OPEN + template[head_end:] + SIMULATED_CLOSE


def without_simulated_branch(raw: str) -> str:
    """The inverse of `with_simulated_branch`; other prompts come back unchanged."""
    start = raw.find(SIMULATED_OPEN)
    if start < 0 or not raw.endswith(SIMULATED_CLOSE):
        return raw
    return raw[:start] + raw[start + len(SIMULATED_OPEN) : -len(SIMULATED_CLOSE)]


def build_template(system_text: str, turns: list[tuple[str, str]] | None = None) -> tuple[str, list[str]]:
    """The prompt template for a system text, and the placeholder names it could not make Nunjucks fill.

    `turns` (role, text) is a profile's own conversation: then the prompt holds those messages
    (each `{{var}}` filled by promptfoo) instead of looping over the test's `messages` var.
    """
    if turns:
        return _build_with_turns(system_text, turns)
    if not system_text:
        return NO_SYSTEM, []
    body, unfillable = text_template(system_text)
    return SYSTEM_OPEN + body + SYSTEM_CLOSE + WITH_SYSTEM_TAIL, unfillable


_TURN_NAME = "protostudio_turn_"
_TURN_ITEM = '{{"role": "{role}", "content": {{{{ {name} | dump }}}}}}'
_SYSTEM_ITEM = '{"role": "system", "content": {{ system | dump }}}'
_TURN_ITEM_RE = re.compile(
    r'\{"role": "(user|assistant)", "content": \{\{ ' + _TURN_NAME + r"(\d+) \| dump \}\}\}"
)


def _build_with_turns(system_text: str, turns: list[tuple[str, str]]) -> tuple[str, list[str]]:
    sets: list[str] = []
    items: list[str] = []
    unfillable: list[str] = []
    if system_text:
        body, names = text_template(system_text)
        unfillable.extend(names)
        sets.append(SYSTEM_OPEN + body + SYSTEM_CLOSE)
        items.append(_SYSTEM_ITEM)
    for number, (role, text) in enumerate(turns, start=1):
        name = f"{_TURN_NAME}{number}"
        body, names = text_template(text)
        unfillable.extend(names)
        sets.append("{% set " + name + " %}" + body + SYSTEM_CLOSE)
        items.append(_TURN_ITEM.format(role=role, name=name))
    return "".join(sets) + "[" + ", ".join(items) + "]", unfillable


def parse_template_turns(raw: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(system text, turns) of a template `build_template` wrote with turns; None for any other prompt."""
    bodies: dict[str, str] = {}
    pos = 0
    set_re = re.compile(r"\{% set (system|" + _TURN_NAME + r"\d+) %\}")
    while True:
        match = set_re.match(raw, pos)
        if not match:
            break
        end = raw.find(SYSTEM_CLOSE, match.end())
        if end < 0:
            return None
        try:
            bodies[match.group(1)] = _unescape_body(raw[match.end():end])
        except ValueError:
            return None
        pos = end + len(SYSTEM_CLOSE)
    rest = raw[pos:]
    turns = [(m.group(1), bodies.get(f"{_TURN_NAME}{m.group(2)}")) for m in _TURN_ITEM_RE.finditer(rest)]
    if not turns or any(text is None for _, text in turns):
        return None
    system = bodies.get("system", "")
    found = [(role, text) for role, text in turns if text is not None]
    rebuilt, _ = _build_with_turns(system, found)
    return (system, found) if rebuilt == raw else None


def text_template(text: str) -> tuple[str, list[str]]:
    """Nunjucks that renders to what `render_vars` makes of `text` with the same vars, and the
    placeholder names it could not make Nunjucks fill (they print as written).

    Text with nothing Nunjucks would read comes back unchanged, so plain values stay readable.
    """
    parts: list[str] = []
    unfillable: list[str] = []
    pos = 0
    for match in VAR_RE.finditer(text):
        parts.append(_literal(text[pos : match.start()]))
        name = match.group(1)
        if _IDENT_RE.match(name) and name not in _NUNJUCKS_WORDS:
            parts.append(f"{{{{ {name} if {name} is defined else {_string(match.group(0))} }}}}")
        else:
            unfillable.append(name)
            parts.append(_literal(match.group(0), force=True))
        pos = match.end()
    parts.append(_literal(text[pos:]))
    return "".join(parts), unfillable


def _literal(text: str, *, force: bool = False) -> str:
    if not text:
        return ""
    if force or any(s in text for s in _SPECIAL) or text.startswith("}") or text.endswith("{"):
        return "{{ " + _string(text) + " }}"
    return text


def _string(text: str) -> str:
    """A Nunjucks string literal for `text` with no `{`, `}`, `%` or `#` left unescaped."""
    out = ['"']
    for char in text:
        if char in '\\"{}%#':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


# -- reading it back --------------------------------------------------------------------------------


def parse_template(raw: str) -> str | None:
    """The system text of a template `build_template` wrote ("" for none), or None for any other prompt."""
    if raw == NO_SYSTEM:
        return ""
    if not (raw.startswith(SYSTEM_OPEN) and raw.endswith(SYSTEM_CLOSE + WITH_SYSTEM_TAIL)):
        return None
    body = raw[len(SYSTEM_OPEN) : len(raw) - len(SYSTEM_CLOSE + WITH_SYSTEM_TAIL)]
    try:
        return _unescape_body(body)
    except ValueError:
        return None


def parse_text(raw: str) -> str:
    """The text `text_template` made `raw` from; `raw` itself when it is not such a template
    (a hand-written `{{name}}` is already Protostudio's placeholder syntax)."""
    try:
        return _unescape_body(raw)
    except ValueError:
        return raw


_TAG_VAR_RE = re.compile(r"([A-Za-z_]\w*) if \1 is defined else ")


def _unescape_body(body: str) -> str:
    out: list[str] = []
    pos = 0
    while True:
        start = body.find("{{ ", pos)
        if start < 0:
            out.append(body[pos:])
            return "".join(out)
        out.append(body[pos:start])
        cursor = start + 3
        var = _TAG_VAR_RE.match(body, cursor)
        if var:
            cursor = var.end()
        text, cursor = _read_string(body, cursor)
        if not body.startswith(" }}", cursor):
            raise ValueError("unterminated tag")
        out.append(text)
        pos = cursor + 3


def _read_string(body: str, pos: int) -> tuple[str, int]:
    if pos >= len(body) or body[pos] != '"':
        raise ValueError("expected a string")
    out: list[str] = []
    i = pos + 1
    escapes = {"n": "\n", "r": "\r", "t": "\t"}
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise ValueError("unterminated string")
