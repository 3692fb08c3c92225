"""Checks proposed with generated cases: validated like hand-written assertions, dropped with a reason,
written as the case's `assert:` only when accepted (scripted hosted replies through the engine and CLI)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI, Recorded, Reply

from app.cli import main
from app.core.casegen.checks import CHECK_TYPES, MAX_CHECKS, read_checks
from app.core.casegen.proposals import GenerationResult, accept
from app.core.casegen.reply import PROPOSAL_SCHEMA, read_reply
from app.core.document import dumps_prototype, load_prototype, parse_prototype
from app.core.evals.validation import assertion_problems
from app.engine.casegen import CaseGenerator, GenerationRequest
from app.engine.engine import Engine
from app.providers.hub import ProviderHub

from .kit import PROTO, TOPICS, rule_of, seed_of

RULE = "Always be polite."

GOOD = [
    {"type": "not-icontains", "value": "stupid"},
    {"type": "max-words", "value": "80"},
    {"type": "llm-rubric", "value": ""},
]
JUNK = [
    {"type": "regex", "value": "(unclosed"},
    {"type": "python", "value": "assert True"},
    {"type": "max-chars", "value": "lots"},
    {"type": "icontains", "value": ""},
    "not an object",
    {"value": "no type"},
]


def test_good_checks_validate_and_an_empty_rubric_gets_the_rules_text() -> None:
    read = read_checks(GOOD, RULE)
    assert read.dropped == ()
    assert [(c.type, c.value) for c in read.checks] == [
        ("not-icontains", "stupid"), ("max-words", 80), ("llm-rubric", RULE)]


def test_each_bad_check_is_dropped_with_its_reason() -> None:
    read = read_checks(JUNK, RULE)
    assert read.checks == ()
    assert len(read.dropped) == len(JUNK)
    reasons = "\n".join(read.dropped)
    assert "invalid regular expression" in reasons
    assert "python: not a check a proposal may carry" in reasons
    assert "max-chars: needs a whole number" in reasons
    assert "icontains: needs a non-empty text value" in reasons


def test_no_more_than_the_limit_and_no_repeats() -> None:
    many = [{"type": "icontains", "value": f"word{n}"} for n in range(MAX_CHECKS + 2)]
    read = read_checks([*many[:1], *many], RULE)
    assert len(read.checks) == MAX_CHECKS
    assert any("the same check twice" in d for d in read.dropped)
    assert any(f"more than {MAX_CHECKS}" in d for d in read.dropped)
    assert read_checks("icontains hello", RULE).dropped  # not a list: named, never raised


def test_the_schema_offers_only_types_the_grader_knows() -> None:
    items = PROPOSAL_SCHEMA["properties"]["checks"]["items"]
    assert items["properties"]["type"]["enum"] == list(CHECK_TYPES)
    every = [{"type": t, "value": "3" if t.startswith("max-") else "x"} for t in CHECK_TYPES]
    read = read_checks(every, RULE)
    assert len(read.checks) + sum("more than" in d for d in read.dropped) == len(CHECK_TYPES)


def test_a_reply_without_checks_still_parses() -> None:
    read = read_reply(json.dumps({"description": "d", "user_message": "hello"}))
    assert not isinstance(read, str) and getattr(read, "checks", "missing") is None


def _reply(rec: Recorded) -> Reply:
    """A hosted model: good checks for `polite`, junk for every other rule."""
    topic = TOPICS[seed_of(rec) % len(TOPICS)]
    checks = GOOD if rule_of(rec) == "polite" else JUNK
    return Reply(text="Sure:\n```json\n" + json.dumps(
        {"description": "checks it", "user_message": f"Tell me about {topic}.", "checks": checks}) + "\n```")


def test_generated_proposals_carry_valid_checks_and_accepted_ones_are_written(
    fake_server: FakeOpenAI,
) -> None:
    fake_server.responder = _reply
    proto = parse_prototype(PROTO.format(base_url=fake_server.base_url))

    async def run() -> GenerationResult:
        generator = CaseGenerator(Engine(ProviderHub(timeout=10.0)))
        result = GenerationResult()
        await generator.generate(proto, GenerationRequest(rules=["polite", "chat-for-small"], count=2,
                                                          model="fake", seed=4), lambda _e: None, result)
        return result

    result = asyncio.run(run())
    polite = [p for p in result.proposals if p.rule_id == "polite"]
    other = [p for p in result.proposals if p.rule_id == "chat-for-small"]
    assert polite and other
    assert all(len(p.checks) == 3 and p.dropped_checks == () for p in polite)
    assert all(p.checks == () and len(p.dropped_checks) == len(JUNK) for p in other)
    chosen = polite[0].with_checks([True, False, True])
    added = accept(proto, [chosen, other[0]])
    assert [a.type for a in added[0].assert_] == ["not-icontains", "llm-rubric"]
    assert added[1].assert_ == []
    assert assertion_problems(proto) == []  # what was written validates like a hand-written check
    again = parse_prototype(dumps_prototype(proto))
    assert again.case(added[0].id).assert_ == added[0].assert_


def test_the_cli_prints_checks_and_writes_them_with_yes(
    tmp_path: Path, fake_server: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_server.responder = _reply
    path = tmp_path / "gen.yaml"
    path.write_text(PROTO.format(base_url=fake_server.base_url), encoding="utf-8")
    assert main(["generate", str(path), "--model", "fake", "--rule", "polite", "--rule", "chat-for-small",
                 "--count", "2", "--yes", "--json", "--seed", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_rule = {p["rule"]: p for p in data["proposals"]}
    assert [c["type"] for c in by_rule["polite"]["checks"]] == ["not-icontains", "max-words", "llm-rubric"]
    assert len(by_rule["chat-for-small"]["dropped_checks"]) == len(JUNK)
    written = load_prototype(path)
    polite = [c for c in written.cases if c.probes == ["polite"]]
    assert polite and all(len(c.assert_) == 3 for c in polite)
