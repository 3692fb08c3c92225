"""Messages stored once: the `prompts:` table of a file, and its references from runs.

In memory every run holds its own `messages`. In the file (format 2) each distinct message list
is written once under `prompts:`, named by a hash of its content, and a run says `prompt: p-…`.
Re-runs of the same cell then add a few lines each instead of a full copy of the conversation,
and the ids are stable, so saving twice gives the same text and diffs stay small.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from app.core.messages import is_plain, message_extras
from app.core.prototype import Message, Prototype


def prompt_id(pairs: Sequence[tuple[Any, ...]]) -> str:
    """`p-` and 10 hex digits of a hash of the (role, content) pairs: same messages, same id.
    A message with images or tool fields is a (role, content, extras JSON) triple instead, so plain
    lists keep the ids they always had."""
    text = json.dumps([list(pair) for pair in pairs], ensure_ascii=False, separators=(",", ":"))
    return "p-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _item(message: Message) -> tuple[Any, ...]:
    if is_plain(message):  # most messages: skip building an empty extras dict
        return (message.role, message.content)
    extras = message_extras(message)
    if not extras:
        return (message.role, message.content)
    return (message.role, message.content, json.dumps(extras, sort_keys=True, ensure_ascii=False))


def _table_entry(item: tuple[Any, ...]) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": item[0], "content": item[1]}
    if len(item) > 2:
        entry.update(json.loads(item[2]))
    return entry


def factor_prompts(proto: Prototype, data: dict[str, Any]) -> None:
    """Rewrite plain data for saving: each run's `messages` becomes `prompt:`, the table goes last."""
    table: dict[str, list[dict[str, Any]]] = {}
    ids: dict[tuple[tuple[Any, ...], ...], str] = {}
    runs_data = data.get("runs", [])
    for run, run_data in zip(proto.runs, runs_data, strict=True):
        if not run.messages:
            run_data.pop("prompt", None)
            continue
        pairs = tuple([_item(m) for m in run.messages])
        ident = ids.get(pairs)
        if ident is None:
            ident = ids[pairs] = prompt_id(pairs)
            table[ident] = [_table_entry(item) for item in pairs]
        rebuilt = {("prompt" if key == "messages" else key): (ident if key == "messages" else value)
                   for key, value in run_data.items() if key != "prompt"}  # `prompt:` where `messages:` was
        run_data.clear()
        run_data.update(rebuilt)
    data.pop("prompts", None)
    if table:
        data["prompts"] = table


def resolve_prompts(proto: Prototype) -> list[tuple[int, str]]:
    """Fill each run's `messages` from the table and empty the table; returns (run index, problem)."""
    problems: list[tuple[int, str]] = []
    for index, run in enumerate(proto.runs):
        if run.prompt is None:
            continue
        if run.messages:
            problems.append((index, "a run has either `prompt:` or `messages:`, not both"))
            continue
        messages = proto.prompts.get(run.prompt)
        if messages is None:
            problems.append((index, f"run refers to unknown prompt {run.prompt!r} (not in `prompts:`)"))
            continue
        run.messages = [Message(role=m.role, content=m.content) if not message_extras(m)
                        else m.model_copy(deep=True) for m in messages]
        run.prompt = None
    if not problems:
        proto.prompts = {}
    return problems


def inline_prompts(data: dict[str, Any]) -> bool:
    """`resolve_prompts` on plain data, before validation: each run's `prompt:` becomes `messages:`.

    Pydantic then builds the messages in one pass, which is much cheaper than building them one run
    at a time afterwards. Only when every reference resolves (True); otherwise the data is left as
    it was and `resolve_prompts` finds and reports the problems after validation."""
    runs = data.get("runs")
    table = data.get("prompts")
    if not isinstance(runs, list) or not isinstance(table, dict):
        return False
    for run in runs:  # check everything first: on any problem the data stays as it was
        if not isinstance(run, dict):
            return False
        ident = run.get("prompt")
        if ident is None:
            continue
        if not isinstance(ident, str) or table.get(ident) is None or "messages" in run:
            return False
    for run in runs:  # in place: the key order of a run's data means nothing to validation
        ident = run.pop("prompt", None)
        if ident is not None:
            run["messages"] = table[ident]
    del data["prompts"]
    return True


def migrate_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 kept every run's messages inline; format 2 keeps each distinct list once in `prompts:`."""
    runs = data.get("runs")
    if not isinstance(runs, list):
        return data
    table: dict[str, Any] = dict(data["prompts"]) if isinstance(data.get("prompts"), dict) else {}
    for run in runs:
        messages = run.get("messages") if isinstance(run, dict) else None
        pairs = _pairs(messages)
        if pairs is None or not pairs:
            continue  # left inline: validation will say what is wrong with it
        ident = prompt_id(pairs)
        table.setdefault(ident, messages)
        rebuilt = {("prompt" if key == "messages" else key): (ident if key == "messages" else value)
                   for key, value in run.items()}
        run.clear()
        run.update(rebuilt)
    if table:
        data["prompts"] = table
    return data


def _pairs(messages: Any) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(messages, list):
        return None
    pairs: list[tuple[str, str]] = []
    for message in messages:
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            return None
        role, content = message["role"], message["content"]
        if not isinstance(role, str) or not isinstance(content, str):
            return None
        pairs.append((role, content))
    return tuple(pairs)


__all__ = ["factor_prompts", "inline_prompts", "migrate_v1_to_v2", "prompt_id", "resolve_prompts"]
