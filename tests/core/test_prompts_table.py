"""Messages stored once (format 2): the `prompts:` table, its references, and the 1 -> 2 migration."""

from __future__ import annotations

import pytest

from app.core.document import dumps_prototype, parse_prototype
from app.core.errors import PrototypeError
from app.core.prototype import Case, Message, Prototype, Run, Turn

V1_WITH_RUNS = """\
protostudio: 1
name: Old
profiles:
  - id: p
    form_factor: chat
models:
  - id: m
    provider: local
    model: x
cases:
  - id: c
    turns:
      - role: user
        content: hi
runs:
  - id: r1
    created: t
    profile: p
    model: m
    case: c
    messages:
      - role: user
        content: hi
    output: one
  - id: r2
    created: t
    profile: p
    model: m
    case: c
    messages:
      - role: user
        content: hi
    output: two
"""


def test_a_v1_file_migrates_and_keeps_every_runs_messages() -> None:
    proto = parse_prototype(V1_WITH_RUNS, "old.yaml")
    assert proto.protostudio == 2
    assert [r.messages for r in proto.runs] == [[Message(role="user", content="hi")]] * 2
    text = dumps_prototype(proto)
    assert text.startswith("protostudio: 2\n")
    assert text.count("content: hi") == 2  # the case's turn and one table entry, not one per run
    assert text.count("prompt: p-") == 2
    again = parse_prototype(text, "new.yaml")
    assert again == proto
    assert dumps_prototype(again) == text


def _proto(outputs: list[str]) -> Prototype:
    runs = [
        Run(id=f"r{i}", created="t", profile="p", model="m", case="c", output=out,
            messages=[Message(role="system", content="long system prompt " * 20),
                      Message(role="user", content="hi")])
        for i, out in enumerate(outputs)
    ]
    return Prototype(name="x", cases=[Case(id="c", turns=[Turn(content="hi")])], runs=runs)


def test_a_rerun_adds_only_the_run_not_its_messages() -> None:
    one = dumps_prototype(_proto(["a"])).count("\n")
    two = dumps_prototype(_proto(["a", "b"])).count("\n")
    assert two - one < 12  # a run's own lines; its messages are already in the table


def test_a_reference_to_a_missing_prompt_is_positioned() -> None:
    text = dumps_prototype(_proto(["a"])).replace("prompt: p-", "prompt: q-")
    with pytest.raises(PrototypeError) as info:
        parse_prototype(text, "f.yaml")
    problem = info.value.problems[0]
    assert "unknown prompt 'q-" in problem.message
    assert text.splitlines()[problem.line - 1].strip().startswith("prompt: q-")


def test_prompt_and_inline_messages_together_are_refused() -> None:
    text = dumps_prototype(_proto(["a"]))
    inline = "    messages:\n      - role: user\n        content: x\n"
    text = text.replace("    prompt: p-", inline + "    prompt: p-")
    with pytest.raises(PrototypeError, match="either `prompt:` or `messages:`"):
        parse_prototype(text, "f.yaml")
