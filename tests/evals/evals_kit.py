"""Shared pieces of the eval tests: a prototype aimed at the scriptable server, and how it answers."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from fakeserver import Recorded, Reply

ROOT = Path(__file__).resolve().parents[2]

PROTO = """\
name: Evals fixture
profiles:
  - id: bullets
    system_prompt: Answer with exactly three bullet points.
  - id: plain
    system_prompt: Answer in one plain sentence.
models:
  - id: fake
    provider: vllm
    model: fake-model
    base_url: {base_url}
  - id: judge
    provider: vllm
    model: fake-judge
    base_url: {base_url}
cases:
  - id: colors
    turns:
      - content: Name three colors.
    assert:
      - type: bullet-count
        value: 3
  - id: fruits
    turns:
      - content: Name three fruits.
    assert:
      - type: icontains
        value: apple
default_assert:
  - type: max-words
    value: 30
"""


def answer_by_profile(rec: Recorded) -> Reply | None:
    """Bullets when the system prompt asks for them, one sentence otherwise, echo with no system prompt."""
    messages = rec.messages
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    question = messages[-1]["content"] if messages else ""
    noun = "colors" if "colors" in question else "fruits"
    items = ["red", "green", "blue"] if noun == "colors" else ["apple", "pear", "plum"]
    if "bullet" in system:
        return Reply(text="\n".join(f"- {item}" for item in items))
    if system:
        return Reply(text=f"Some {noun} are {', '.join(items)}.")
    return Reply(text=f"{noun.title()}: {items[0]}, {items[1]} and {items[2]}, among others.")


CliRunner = Callable[..., subprocess.CompletedProcess[str]]
