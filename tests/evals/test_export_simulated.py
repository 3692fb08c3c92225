"""Simulated users and `turn` in the promptfoo export and back (round trip), and in openai/evals and DPO."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from test_export_kit import endpoints, messages

from app.core.document import parse_prototype
from app.core.exports.dpo import export_dpo
from app.core.exports.openai_evals import export_openai_evals
from app.core.exports.promptfoo import CONFIG_FILE, export_promptfoo
from app.core.exports.promptfoo_import import import_promptfoo_text
from app.core.exports.promptfoo_replies import last_reply_transform, read_last_reply_transform
from app.core.exports.promptfoo_simulated import PROVIDER_ID, REMOTE_WARNING, SIMULATED_VAR
from app.core.exports.promptfoo_template import (
    build_template,
    with_simulated_branch,
    without_simulated_branch,
)
from app.core.prototype import Case, Message, Preference, Prototype, Run

SIM_YAML = """\
protostudio: 3
name: Tips
profiles:
  - id: terse
    system_prompt: You compute tips for {{city}} diners. Answer with the amount only.
models:
  - id: fake
    provider: openai
    model: fake-model
    base_url: http://127.0.0.1:9/v1
  - id: judge
    provider: openai
    model: fake-judge
    base_url: http://127.0.0.1:9/v1
cases:
  - id: tip
    vars: {city: Lyon}
    turns:
      - content: What is 18% of $64?
    simulated_user:
      persona: A busy PM who wants the tip amount and nothing else
      goal: get 18% of $64
      max_turns: 3
      model: judge
      seed: 11
    assert:
      - type: icontains
        value: "11.52"
      - type: not-contains
        value: "{{city}} sorry"
        turn: all
        description: never apologises
      - type: max-words
        value: 30
        turn: any
      - type: llm-rubric
        value: Gives the amount.
        turn: all
      - type: regex
        value: '\\d'
        transform: output.trim()
  - id: scripted
    turns:
      - content: hi
      - role: assistant
        content: hello, how can I help?
      - content: tip on $10?
    simulated_user:
      script: [and 20%?, thanks]
      max_turns: 2
    assert:
      - type: contains
        value: "2"
  - id: plain
    turns:
      - content: What is 10% of $5?
    assert:
      - type: contains
        value: "0.5"
"""


def _proto() -> Prototype:
    return parse_prototype(SIM_YAML, "tips.yaml")


def _config(proto: Prototype) -> tuple[dict[str, Any], str, list[str], list[str]]:
    result = export_promptfoo(proto, messages, endpoints())
    text = result.files[CONFIG_FILE]
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data, text, result.notes, result.warnings


def _test(config: dict[str, Any], case_id: str) -> dict[str, Any]:
    found = [t for t in config["tests"] if t["metadata"]["case"] == case_id]
    assert len(found) == 1
    test: dict[str, Any] = found[0]
    return test


def test_a_simulated_case_becomes_promptfoos_simulated_user() -> None:
    config, _, notes, warnings = _config(_proto())
    test = _test(config, "tip")
    assert test["provider"]["id"] == PROVIDER_ID
    assert test["provider"]["config"]["maxTurns"] == 3
    instructions = test["provider"]["config"]["instructions"]
    assert "A busy PM who wants the tip amount" in instructions and "get 18% of $64" in instructions
    assert "###STOP###" in instructions
    assert test["vars"][SIMULATED_VAR] is True
    assert test["vars"]["initialMessages"] == [{"role": "user", "content": "What is 18% of $64?"}]
    assert "messages" not in test["vars"]
    assert REMOTE_WARNING in warnings  # the conversation leaves the machine: said out loud
    assert any("model 'judge' and seed 11 not exported" in n for n in notes)
    assert any("'scripted': script approximated" in n for n in notes)
    plain = _test(config, "plain")
    assert "provider" not in plain and plain["vars"]["messages"][0]["content"] == "What is 10% of $5?"


def test_a_file_without_simulated_users_exports_as_before() -> None:
    proto = _proto()
    proto = proto.model_copy(update={"cases": [c for c in proto.cases if c.simulated_user is None]})
    config, text, _, warnings = _config(proto)
    assert SIMULATED_VAR not in text and REMOTE_WARNING not in warnings
    assert config["prompts"][0]["raw"] == build_template(
        messages(proto.profiles[0], proto.cases[0])[0].content)[0]


def test_the_prompt_renders_the_bare_system_text_for_the_simulated_user() -> None:
    config, _, _, _ = _config(_proto())
    raw = config["prompts"][0]["raw"]
    assert raw.endswith("{% endif %}") and SIMULATED_VAR in raw
    assert without_simulated_branch(raw) == build_template(
        "You compute tips for {{city}} diners. Answer with the amount only.")[0]
    assert with_simulated_branch(without_simulated_branch(raw)) == raw


def test_turn_last_picks_the_last_reply_and_any_all_become_javascript_over_replies() -> None:
    config, _, notes, _ = _config(_proto())
    asserts = _test(config, "tip")["assert"]
    by_type = {a["type"]: a for a in asserts}
    icontains = by_type["icontains"]
    assert icontains["transform"] == last_reply_transform(1, None)
    assert read_last_reply_transform(icontains["transform"]) == (True, None)
    regex = by_type["regex"]
    assert read_last_reply_transform(regex["transform"]) == (True, "output.trim()")
    scripts = [a["value"] for a in asserts if a["type"] == "javascript"]
    assert len(scripts) == 2
    assert any('"turn": "all"' in s and "replies.every((r) => !passes(r))" in s for s in scripts)
    assert any('"turn": "any"' in s and "replies.some((r) => passes(r))" in s for s in scripts)
    assert all(".slice(1)" in s for s in scripts)  # the fixed first message is not a reply
    assert "llm-rubric" not in by_type  # no JavaScript form per reply: kept in metadata
    assert any("`llm-rubric` (turn: all) not exported" in n for n in notes)
    scripted = _test(config, "scripted")["assert"][0]
    assert scripted["transform"] == last_reply_transform(3, None)


def test_round_trip_gives_back_the_same_simulated_cases() -> None:
    proto = _proto()
    _, text, _, _ = _config(proto)
    back = import_promptfoo_text(text, Path("."), "x", endpoints())
    assert back.dropped == []
    dump = [c.model_dump(mode="json", by_alias=True, exclude_defaults=True) for c in proto.cases]
    again = [c.model_dump(mode="json", by_alias=True, exclude_defaults=True) for c in back.prototype.cases]
    assert again == dump
    assert back.prototype.profiles[0].system_prompt == proto.profiles[0].system_prompt


def test_a_hand_written_simulated_user_comes_in_with_its_instructions() -> None:
    config = {
        "prompts": ["You are a helpful travel agent."],
        "providers": ["openai:gpt-4o-mini"],
        "tests": [{
            "provider": {"id": PROVIDER_ID,
                         "config": {"maxTurns": 50, "instructions": "A traveller on a budget"}},
            "vars": {"initialMessages": [{"role": "user", "content": "I need a flight"}]},
            "assert": [{"type": "icontains", "value": "flight"}],
        }],
    }
    back = import_promptfoo_text(yaml.safe_dump(config), Path("."), "x", endpoints())
    case = back.prototype.cases[0]
    assert case.simulated_user is not None
    assert case.simulated_user.persona == "A traveller on a budget"
    assert case.simulated_user.max_turns == 20
    assert [t.content for t in case.turns][-1] == "I need a flight"
    assert any("maxTurns 50 is over" in d for d in back.dropped)


def test_export_copes_with_a_case_without_fixed_turns() -> None:
    """Cases whose simulated user writes the first message (turns: []) export its instructions only."""
    proto = _proto()
    tip = proto.cases[0]
    empty = Case.model_construct(**{**dict(tip), "turns": []})
    proto = proto.model_copy(update={"cases": [empty, *proto.cases[1:]]})
    config, _, _, _ = _config(proto)
    test = _test(config, "tip")
    assert "initialMessages" not in test["vars"] and test["metadata"]["turns"] == []
    assert _test(config, "tip")["assert"][0]["transform"] == last_reply_transform(0, None)


# -- openai/evals and DPO: the recorded threads -----------------------------------------------------


def test_openai_evals_samples_of_a_simulated_case_carry_its_fixed_turns() -> None:
    proto = _proto()
    result = export_openai_evals(proto, messages)
    rows = [json.loads(line) for path, text in result.files.items() if path.startswith("data/")
            for line in text.splitlines()]
    tip = [r for r in rows if r["metadata"]["case"] == "tip"]
    assert tip and all(r["input"][-1]["content"] == "What is 18% of $64?" for r in tip)


def _thread(proto: Prototype, model: str, replies: list[str], users: list[str], prefix: str) -> list[Run]:
    """A recorded simulated conversation of case `tip` with `model`: the fixed turn, then `users`."""
    sent = [Message(role="system", content="sys"), Message(role="user", content="What is 18% of $64?")]
    runs: list[Run] = []
    for n, reply in enumerate(replies):
        run = Run(id=f"{prefix}{n}", created="2026-01-01T00:00:00Z", profile="terse", model=model, case="tip",
                  parent=runs[-1].id if runs else None, messages=list(sent), output=reply,
                  user_turn="simulated" if runs else None)
        runs.append(run)
        sent = [*sent, Message(role="assistant", content=reply)]
        if n < len(users):
            sent.append(Message(role="user", content=users[n]))
    return runs


def _with_threads() -> Prototype:
    proto = _proto()
    a = _thread(proto, "fake", ["$11.52", "You're welcome"], ["thanks"], "ra")
    b = _thread(proto, "judge", ["About 11 dollars", "It is $11.52"], ["exactly?"], "rb")
    vote = Preference(id="pref-1", created="2026-01-01T00:00:00Z", a=a[0].id, b=b[0].id, verdict="a")
    return proto.model_copy(update={"runs": [*a, *b], "preferences": [vote]})


def test_openai_evals_samples_hold_each_recorded_conversation() -> None:
    result = export_openai_evals(_with_threads(), messages)
    rows = [json.loads(line) for path, text in result.files.items() if path.startswith("data/")
            for line in text.splitlines()]
    tip = [r for r in rows if r["metadata"]["case"] == "tip"]
    by_model = {r["metadata"]["conversation_of"]: r["input"] for r in tip}
    assert by_model["fake"] == [
        {"role": "system", "content": "sys"}, {"role": "user", "content": "What is 18% of $64?"},
        {"role": "assistant", "content": "$11.52"}, {"role": "user", "content": "thanks"},
    ]
    assert by_model["judge"][-1] == {"role": "user", "content": "exactly?"}
    assert any("turn: all becomes a check of the last reply" in n for n in result.notes)


def test_dpo_pairs_of_simulated_cases_carry_the_whole_conversations() -> None:
    result = export_dpo(_with_threads(), messages)
    [line] = result.files["preferences.dpo.jsonl"].splitlines()
    record = json.loads(line)
    assert record["prompt"] == [{"role": "system", "content": "sys"},
                                {"role": "user", "content": "What is 18% of $64?"}]
    assert record["chosen"] == [{"role": "assistant", "content": "$11.52"},
                                {"role": "user", "content": "thanks"},
                                {"role": "assistant", "content": "You're welcome"}]
    assert [m["content"] for m in record["rejected"]] == ["About 11 dollars", "exactly?", "It is $11.52"]
    assert record["metadata"]["simulated"] is True


def test_promptfoos_documented_simulated_user_config_comes_in() -> None:
    """promptfoo's docs example: the provider on defaultTest, a plain prompt (the agent's system
    message there), `instructions` as a var-free config, and a test starting from initialMessages."""
    config = {
        "prompts": ["You are a helpful customer service agent."],
        "providers": ["openai:gpt-4o-mini"],
        "defaultTest": {"provider": {"id": PROVIDER_ID, "config": {"maxTurns": 5,
                                                                   "instructions": "A frustrated customer"}}},
        "tests": [
            {"vars": {"initialMessages": [
                {"role": "user", "content": "My parcel went to the wrong address"}]}},
            {"description": "starts cold"},
        ],
    }
    back = import_promptfoo_text(yaml.safe_dump(config), Path("."), "x", endpoints())
    profile = back.prototype.profiles[0]
    assert profile.system_prompt == "You are a helpful customer service agent." and profile.turns == []
    first = back.prototype.cases[0]
    assert [t.content for t in first.turns] == ["My parcel went to the wrong address"]
    assert first.simulated_user is not None and first.simulated_user.max_turns == 5
    assert not any("defaultTest: `provider` dropped" in d for d in back.dropped)
    try:
        Case.model_validate({"id": "x", "turns": [], "simulated_user": {}})
    except ValueError:  # this version needs a fixed first turn: the cold start is named, not guessed
        assert len(back.prototype.cases) == 1
        assert any("starts cold" in d or "test 2" in d for d in back.dropped)
    else:
        assert back.prototype.cases[1].turns == []
