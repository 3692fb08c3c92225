"""promptfoo prompts -> (system text, conversation) pairs, refusing what Protostudio cannot render.

A prompt is inline text, or a file: `file://` paths and globs, and bare paths ending in a prompt
file suffix (`prompts: [prompts.txt]`), always relative to the config. Text files hold several
prompts separated by a `---` line; `.json`/`.yaml` hold one chat message array; `.jsonl` one per
line; `.md` one prompt. Scripts (`.js`, `.py`, ...) cannot run here and are refused by name.

Templates: plain `{{var}}` is Protostudio's own placeholder. A chat array that loops over a
test var of messages (`{% for m in history %}`) maps to each case's turns (the history, then the
prompt's remaining messages). Any other Nunjucks (filters, tags, `_conversation`) refuses the
prompt with the reason; a raw template is never imported as a user message.
"""

from __future__ import annotations

import glob
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.core import jsontext
from app.core.exports.promptfoo_template import parse_template, parse_template_turns, without_simulated_branch
from app.core.placeholders import VAR_RE
from app.core.prototype import Turn

TEXT_SUFFIXES = (".txt", ".md", ".j2", ".prompt", ".njk")
CHAT_SUFFIXES = (".json", ".yaml", ".yml", ".jsonl")
SCRIPT_SUFFIXES = (".js", ".cjs", ".mjs", ".ts", ".py")
_DELIMITER_RE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_LOOP_RE = re.compile(r"\{%-?\s*for\s+(\w+)\s+in\s+(\w+)\s*-?%\}(.*?)\{%-?\s*endfor\s*-?%\}", re.DOTALL)
_ROLES = ("system", "user", "assistant")
_DUMP_RE = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\|\s*(?:dump|tojson)\s*\}\}")

ReadText = Callable[[Path, str], "str | None"]
"""(path, what it is for) -> its text, or None after noting why not."""


@dataclass
class Prompt:
    """One imported prompt: label, system text, its own conversation (None: none) and, for a prompt
    that loops over a test var of messages, that var's name (the var's messages come before `tail`)."""

    label: str
    system: str
    tail: list[Turn] | None
    history_var: str | None = None


class PromptRefused(ValueError):
    """This prompt cannot be imported; the message says why."""


def is_file_reference(text: str) -> bool:
    """promptfoo reads `file://...`, and a one-line string ending in a prompt file suffix, as a file."""
    if text.startswith("file://"):
        return True
    one_line = "\n" not in text and "{{" not in text and len(text) < 300
    return one_line and text.strip().lower().endswith(TEXT_SUFFIXES + CHAT_SUFFIXES + SCRIPT_SUFFIXES)


def expand_file(ref: str, base_dir: Path, read_text: ReadText) -> list[tuple[str, str]]:
    """(prompt text, default label) for each prompt a file reference holds. Raises PromptRefused."""
    spec = ref[len("file://") :] if ref.startswith("file://") else ref.strip()
    function = ""
    if ":" in Path(spec).name:
        spec, function = spec.rsplit(":", 1)
    path_text = str(base_dir / spec)
    paths = sorted(glob.glob(path_text)) if any(c in spec for c in "*?[") else [path_text]
    if not paths or not Path(paths[0]).exists():
        raise PromptRefused(f"file not found: {spec}")
    out: list[tuple[str, str]] = []
    for name in paths:
        path = Path(name)
        suffix = path.suffix.lower()
        if suffix in SCRIPT_SUFFIXES:
            raise PromptRefused(
                f"{path.name}{':' + function if function else ''} is a prompt function; "
                "Protostudio cannot run scripts"
            )
        if suffix not in TEXT_SUFFIXES + CHAT_SUFFIXES and suffix:
            raise PromptRefused(f"{path.name}: unknown prompt file type {suffix!r}")
        text = read_text(path, f"prompt {ref}")
        if text is None:
            raise PromptRefused(f"{path.name} could not be read")
        out.extend(_split_file(path, suffix, text))
    return out


def _split_file(path: Path, suffix: str, text: str) -> list[tuple[str, str]]:
    if suffix in (".yaml", ".yml"):
        try:
            return [(json.dumps(yaml.safe_load(text), ensure_ascii=False), path.stem)]
        except yaml.YAMLError as exc:
            raise PromptRefused(f"{path.name} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if suffix == ".json":
        return [(text, path.stem)]
    if suffix == ".jsonl":
        lines = [line for line in text.splitlines() if line.strip()]
        return [
            (line, path.stem if len(lines) == 1 else f"{path.stem}-{i + 1}") for i, line in enumerate(lines)
        ]
    if suffix == ".md":
        return [(text.strip(), path.stem)]
    parts = [p.strip() for p in _DELIMITER_RE.split(text) if p.strip()]
    return [(p, path.stem if len(parts) == 1 else f"{path.stem}-{i + 1}") for i, p in enumerate(parts)]


def parse_prompt(raw: str, label: str) -> Prompt:
    """The system text and conversation of one prompt's text. Raises PromptRefused saying why."""
    raw = without_simulated_branch(raw)
    system = parse_template(raw)
    if system is not None:
        return Prompt(label, system, None)
    with_turns = parse_template_turns(raw)
    if with_turns is not None:
        system, turns = with_turns
        return Prompt(label, system, [Turn(role=r, content=c) for r, c in turns])
    if "_conversation" in raw:
        raise PromptRefused(
            "uses `_conversation` (promptfoo's running conversation across tests), which "
            "Protostudio cannot replay; write the turns into each case instead"
        )
    dumped = _DUMP_RE.sub(r'"{{\1}}"', raw)
    if dumped != raw and _LOOP_RE.search(raw) is None:
        messages = chat_messages(dumped)  # `"content": {{ q | dump }}` is the JSON string of q
        if messages is not None:
            _refuse_nunjucks(dumped)
            return _from_messages(messages, label, None)
    loop = _LOOP_RE.search(raw)
    if loop is not None:
        return _history_prompt(raw, loop, label)
    _refuse_nunjucks(raw)
    messages = chat_messages(raw)
    if messages is None:
        return Prompt(label, "", [Turn(role="user", content=raw)])
    return _from_messages(messages, label, None)


def _from_messages(messages: list[dict[str, str]], label: str, history_var: str | None) -> Prompt:
    systems: list[str] = []
    tail: list[Turn] = []
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "system" and not tail:
            systems.append(content)
        elif role in ("user", "assistant"):
            tail.append(Turn(role=role, content=content))
        else:
            raise PromptRefused(f"a {role!r} message cannot be imported")
    return Prompt(label, "\n\n".join(systems), tail if tail or history_var else None, history_var)


def _history_prompt(raw: str, loop: re.Match[str], label: str) -> Prompt:
    """`[system..., {% for m in history %}{...m...}{% endfor %}, user...]`: a test var of messages."""
    history_var = loop.group(2)
    body = loop.group(3)
    item = loop.group(1)
    if not re.search(
        r"\{\{\s*" + item + r"(\s*\|\s*(dump|tojson|safe))?\s*\}\}|" + item + r"\.(role|content)", body
    ):
        raise PromptRefused(f"loops over `{history_var}` in a way Protostudio cannot map to turns")
    before, after = raw[: loop.start()], raw[loop.end() :]
    _refuse_nunjucks(before + after)
    text = before + after
    text = re.sub(r",\s*(?=[\]}])", "", text)  # the comma that joined the loop to its neighbours
    text = re.sub(r"\[\s*,", "[", text)
    messages = chat_messages(text)
    if messages is None:
        raise PromptRefused(f"loops over `{history_var}` but the rest is not a JSON list of chat messages")
    head = len(_JSON_ITEM_RE.findall(before))
    if any(m["role"] != "system" for m in messages[:head]):
        raise PromptRefused(f"has user or assistant messages before the `{history_var}` history")
    return _from_messages(messages, label, history_var)


_JSON_ITEM_RE = re.compile(r'"role"\s*:')


def _refuse_nunjucks(text: str) -> None:
    rest = VAR_RE.sub("", text)
    if "{%" in rest:
        tag = re.search(r"\{%-?\s*(\w+)", rest)
        raise PromptRefused(
            f"uses the Nunjucks tag `{tag.group(1) if tag else '%'}`, which Protostudio does not render"
        )
    if "{#" in rest:
        raise PromptRefused("has a Nunjucks comment, which Protostudio does not render")
    match = re.search(r"\{\{([^}]*)\}\}", rest)
    if match:
        inner = " ".join(match.group(1).split())
        why = "a filter" if "|" in inner else "an expression"
        raise PromptRefused(f"uses {why} `{{{{ {inner} }}}}`, which Protostudio does not render")


def chat_messages(raw: str) -> list[dict[str, str]] | None:
    """A JSON or YAML list of {role, content} messages, or None when `raw` is not one."""
    text = raw.strip()
    data: Any = None
    if text.startswith("["):
        try:
            data = jsontext.loads(text)
        except ValueError:
            return None
    elif text.startswith("- role:"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
    if not isinstance(data, list) or not data:
        return None
    data = [_with_text_content(m) for m in data]
    if not all(
        isinstance(m, dict) and m.get("role") in _ROLES and isinstance(m.get("content"), str) for m in data
    ):
        if all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in data):
            bad = next(
                m for m in data if m.get("role") not in _ROLES or not isinstance(m.get("content"), str)
            )
            kinds = _part_kinds(bad.get("content"))
            raise PromptRefused(
                f"a {bad.get('role')!r} message with "
                + (f"{kinds} parts (Protostudio sends text only)" if kinds
                   else f"{type(bad.get('content')).__name__} content")
                + " cannot be imported"
            )
        return None
    return [{"role": m["role"], "content": m["content"]} for m in data]


def _text_part(part: Any) -> str | None:
    """The text of one content part: a string, OpenAI's `{type: text, text}`, or `{modality: text, value}`."""
    if isinstance(part, str):
        return part
    if isinstance(part, dict):
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            return str(part["text"])
        if part.get("modality") == "text" and isinstance(part.get("value"), str):
            return str(part["value"])
    return None


def _with_text_content(message: Any) -> Any:
    """A message whose content is a list of text parts only, with that text joined (what the model reads)."""
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return message
    texts = [_text_part(part) for part in message["content"]]
    if not texts or any(t is None for t in texts):
        return message
    return {**message, "content": "\n".join(t for t in texts if t is not None)}


def _part_kinds(content: Any) -> str:
    """The non-text part kinds of a list content (`image_url, input_audio`), for the refusal."""
    if not isinstance(content, list):
        return ""
    kinds = [
        str(part.get("type") or part.get("modality") or "unknown")
        for part in content
        if _text_part(part) is None and isinstance(part, dict)
    ]
    return ", ".join(dict.fromkeys(kinds))


def history_turns(value: Any) -> list[Turn] | None:
    """A test var holding chat messages, as turns; None when it is not a list of user/assistant messages."""
    if isinstance(value, str):
        try:
            value = jsontext.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list):
        return None
    turns: list[Turn] = []
    for item in value:
        if not (
            isinstance(item, dict)
            and item.get("role") in ("user", "assistant")
            and isinstance(item.get("content"), str)
        ):
            return None
        turns.append(Turn(role=item["role"], content=item["content"]))
    return turns
