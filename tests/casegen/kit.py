"""Shared pieces of the generated-cases tests: a small prototype with rules, and scripted replies."""

from __future__ import annotations

import json

from fakeserver import Recorded, Reply

PROTO = """\
name: Generated cases fixture
description: A writing assistant that opens a canvas for long drafts.
profiles:
  - id: canvas
    system_prompt: Open a canvas for documents longer than {{{{words}}}} words.
    behavior_spec:
      - id: open-for-drafts
        rule: A request for a full draft opens a canvas.
        good: ["[canvas: Blog post] ..."]
        bad: ["Sure! Here is a blog post: ..."]
      - id: chat-for-small
        rule: A one-line rewrite stays in chat.
  - id: plain
    system_prompt: Answer in chat.
    behavior_spec:
      - id: polite
        rule: Always be polite.
models:
  - id: fake
    provider: vllm
    model: fake-model
    base_url: {base_url}
cases:
  - id: blog
    vars: {{words: '150'}}
    turns:
      - content: Write a launch blog post about offline mode for our notes app.
    probes: [open-for-drafts]
"""

TOPICS = [
    "a launch announcement for our new calendar sync",
    "quarterly budget numbers for the marketing team",
    "how to onboard volunteers at a food bank",
    "the history of lighthouses along the Maine coast",
    "a recipe collection for quick vegetarian dinners",
    "migrating a payments service from Python two",
    "tips for a first marathon in cold weather",
    "the rules of our office chess league",
    "choosing between heat pumps and gas furnaces",
    "a bedtime story about a shy octopus",
    "setting up a home recording studio cheaply",
    "why our support queue doubled in March",
]


def rule_of(rec: Recorded) -> str:
    """The rule id a generation request asks about (from the prompt's `(id ...)`)."""
    text = rec.messages[-1]["content"]
    return text.split("(id ", 1)[1].split(")", 1)[0]


def seed_of(rec: Recorded) -> int:
    return int((rec.body or {}).get("seed", 0))


def proposal_reply(rec: Recorded) -> Reply:
    """A well-formed proposal on a different topic per seed, so probes do not repeat each other."""
    rule = rule_of(rec)
    topic = TOPICS[seed_of(rec) % len(TOPICS)]
    message = f"Write something about {topic}."
    return Reply(text=json.dumps({"description": f"checks {rule}", "user_message": message}))
