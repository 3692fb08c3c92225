"""Generated cases, the pure parts: the grid, the prompt, reading replies, dedupe, coverage, accepting."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from app.core.casegen.dedupe import DUPLICATE_THRESHOLD, DuplicateFilter, shingles, similarity
from app.core.casegen.grid import (
    PERSONAS,
    PROBE_KINDS,
    PROMPT_RULE_ID,
    GridError,
    plan_probes,
    rules_of,
    unprobed,
)
from app.core.casegen.prompt import (
    PROMPT_VERSION,
    PromptTemplate,
    generation_messages,
    load_template,
    save_template,
)
from app.core.casegen.proposals import Proposal, accept
from app.core.casegen.reply import PROPOSAL_SCHEMA, ProposedText, ReplyProblem, read_reply
from app.core.document import dumps_prototype, load_prototype, parse_prototype

from .kit import PROTO

ROOT = Path(__file__).resolve().parents[2]


def proto():  # type: ignore[no-untyped-def]
    return parse_prototype(PROTO.format(base_url="http://127.0.0.1:9/v1"))


# -- grid and coverage ------------------------------------------------------------------------------


def test_rules_are_listed_once_in_file_order() -> None:
    assert [ref.id for ref in rules_of(proto())] == ["open-for-drafts", "chat-for-small", "polite"]


def test_coverage_names_the_rules_no_case_probes() -> None:
    doc = proto()
    assert unprobed(doc) == ["chat-for-small", "polite"]
    doc.cases[0].probes = ["open-for-drafts", "polite"]
    assert unprobed(doc) == ["chat-for-small"]


def test_the_grid_spreads_over_rules_then_kinds_then_personas() -> None:
    probes = plan_probes(proto(), count=7, seed=100)
    assert [p.rule.id for p in probes[:3]] == ["open-for-drafts", "chat-for-small", "polite"]
    assert [p.kind for p in probes] == ["typical"] * 3 + ["boundary"] * 3 + ["ambiguous"]
    assert [p.seed for p in probes] == list(range(100, 107))
    assert len({p.persona for p in probes}) == len(PERSONAS)
    every_kind = plan_probes(proto(), ["polite"], count=len(PROBE_KINDS))
    assert [p.kind for p in every_kind] == list(PROBE_KINDS)


def test_default_count_is_two_per_rule_and_bad_requests_are_refused() -> None:
    assert len(plan_probes(proto())) == 6
    assert len(plan_probes(proto(), ["polite"])) == 2
    with pytest.raises(GridError, match=r"unknown rule 'nope' \(known: open-for-drafts"):
        plan_probes(proto(), ["nope"])
    with pytest.raises(GridError, match="unknown probe kind"):
        plan_probes(proto(), kinds=["sarcastic"])
    with pytest.raises(GridError, match="nothing to generate cases from"):
        plan_probes(parse_prototype("name: empty\n"))


def test_with_no_rules_cases_are_written_from_the_system_prompts_and_probe_nothing() -> None:
    doc = parse_prototype(
        "name: no spec\nprofiles:\n  - id: cat\n    system_prompt: Answer as a cat.\n  - id: plain\n"
    )
    probes = plan_probes(doc, count=3)
    assert [p.rule.id for p in probes] == [PROMPT_RULE_ID] * 3
    assert [p.id for p in probes[0].rule.profiles] == ["cat"]  # the prompt the model reads
    assert "Answer as a cat." in generation_messages(doc, probes[0])[-1].content
    added = accept(doc, [_proposal(0, PROMPT_RULE_ID, "Meow, what is 2+2?")])
    assert added[0].probes == []  # no rule of the file: coverage is untouched
    assert plan_probes(doc, [PROMPT_RULE_ID], 1)[0].rule.stand_in
    with pytest.raises(GridError, match="nothing to generate"):  # no prompt, no description, no rule
        plan_probes(parse_prototype("name: bare\nprofiles:\n  - id: p\n"))


# -- the prompt -------------------------------------------------------------------------------------


def test_the_prompt_carries_rule_examples_system_prompt_description_and_probe() -> None:
    doc = proto()
    probe = plan_probes(doc, ["open-for-drafts"], count=2)[1]
    system, user = generation_messages(doc, probe)
    assert system.role == "system" and "JSON" in system.content
    for text in (
        "A request for a full draft opens a canvas.",
        "[canvas: Blog post] ...",
        "Sure! Here is a blog post: ...",
        "Open a canvas for documents longer than {{words}} words.",
        "A writing assistant that opens a canvas",
        "boundary",
        probe.persona,
        "Write a launch blog post about offline mode",
    ):
        assert text in user.content, text
    # only the profiles that state the rule give their system prompt
    assert "Answer in chat." not in user.content


def test_an_edited_template_is_versioned_by_its_hash_and_kept_per_user() -> None:
    assert PromptTemplate().version == PROMPT_VERSION
    edited = PromptTemplate(user="Write a {{kind}} test for: {{rule}}")
    assert edited.version.startswith(PROMPT_VERSION + "+custom-") and edited.version != PROMPT_VERSION
    assert PromptTemplate(user="other {{rule}}").version != edited.version
    save_template(edited)
    assert load_template() == edited
    doc = proto()
    _system, user = generation_messages(doc, plan_probes(doc, ["polite"])[0], load_template())
    assert user.content == "Write a typical test for: Always be polite."
    save_template(PromptTemplate())
    assert load_template() == PromptTemplate()


# -- reading replies --------------------------------------------------------------------------------


def test_a_well_formed_reply_parses_and_matches_the_schema() -> None:
    text = json.dumps({"description": "checks drafts", "user_message": "Draft a spec for dark mode."})
    assert set(PROPOSAL_SCHEMA["required"]) == {"description", "user_message", "checks"}
    assert read_reply(text) == ProposedText("Draft a spec for dark mode.", "checks drafts")


def test_fenced_or_chatty_replies_from_hosted_models_parse() -> None:
    fenced = (
        'Here you go:\n```json\n{"user_message": "\\"Fix my tone\\"", "description": "tone"}\n```\nEnjoy!'
    )
    assert read_reply(fenced) == ProposedText("Fix my tone", "tone")
    assert read_reply('{"message": "Hola, ¿me ayudas?"}') == ProposedText("Hola, ¿me ayudas?", "")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no json here",
        "{",
        '{"description": "x"}',
        '{"user_message": ""}',
        '["a list"]',
        '{"user_message": 42}',
        '{"user_message": "' + "x" * 700 + '"}',
    ],
)
def test_a_reply_with_no_usable_proposal_is_a_problem_not_a_crash(text: str) -> None:
    assert isinstance(read_reply(text), ReplyProblem)


def test_mangled_replies_never_raise() -> None:
    good = json.dumps({"description": "d", "user_message": "Write a haiku about rain."})
    rng = random.Random(7)
    for _ in range(500):
        chars = list(good)
        for _ in range(rng.randint(1, 6)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice('{}[]":,\\x\n'))
        result = read_reply("".join(chars))
        assert isinstance(result, ProposedText | ReplyProblem)


# -- near-duplicates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Write a cover letter for a designer job", "write a cover letter for a design job!"),
        (
            "Can you draft a launch blog post about offline mode?",
            "Draft a launch blog post about offline mode.",
        ),
        ("Is it 'fewer bugs' or 'less bugs'?", "is it fewer bugs or less bugs"),
    ],
)
def test_rewordings_are_duplicates(a: str, b: str) -> None:
    assert similarity(shingles(a), shingles(b)) >= DUPLICATE_THRESHOLD


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Write a launch blog post about offline mode", "Write a cover letter for a designer role"),
        ("Make this friendlier: 'Shipment is scheduled for Friday.'", "Is it 'fewer bugs' or 'less bugs'?"),
    ],
)
def test_different_requests_are_not(a: str, b: str) -> None:
    assert similarity(shingles(a), shingles(b)) < DUPLICATE_THRESHOLD


def test_the_filter_matches_existing_cases_and_earlier_proposals() -> None:
    dupes = DuplicateFilter.for_cases(proto().cases)
    match = dupes.match("write a launch blog post about offline mode for our notes app")
    assert match is not None and match[0] == "blog"
    assert dupes.match("Explain the offside rule in football") is None
    dupes.add("proposal 1", "Explain the offside rule in football")
    match = dupes.match("Explain the offside rule in football, please")
    assert match is not None and match[0] == "proposal 1"


# -- accepting --------------------------------------------------------------------------------------


def _proposal(index: int, rule: str, message: str) -> Proposal:
    return Proposal(
        index, rule, "typical", PERSONAS[0], 40 + index, message, "checks it", "fake", PROMPT_VERSION
    )


def test_accepted_proposals_become_normal_cases_with_probes_origin_and_vars(tmp_path: Path) -> None:
    doc = proto()
    added = accept(
        doc,
        [
            _proposal(0, "polite", "Be brutal about my code."),
            _proposal(1, "polite", "Roast my essay, no mercy."),
        ],
    )
    assert [c.id for c in added] == ["gen-polite-typical-1", "gen-polite-typical-2"]
    assert [c.id for c in doc.cases] == ["blog", "gen-polite-typical-1", "gen-polite-typical-2"]
    case = doc.cases[1]
    assert case.probes == ["polite"] and case.turns[0].content == "Be brutal about my code."
    assert case.vars == {"words": "150"}  # the canvas profile's prompt needs it
    assert case.origin is not None and (case.origin.model, case.origin.seed) == ("fake", 40)
    assert case.origin.prompt_version == PROMPT_VERSION and case.origin.kind == "typical"
    path = tmp_path / "p.yaml"
    path.write_text(dumps_prototype(doc), encoding="utf-8")
    again = load_prototype(path)
    assert again.cases[2].origin == doc.cases[2].origin
    assert unprobed(again) == ["chat-for-small"]


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "prototypes").glob("*.yaml")))
def test_files_without_generated_cases_save_unchanged(name: str) -> None:
    text = (ROOT / "prototypes" / name).read_text(encoding="utf-8")
    assert dumps_prototype(parse_prototype(text)) == text


@pytest.mark.parametrize("name", ["canvas-trigger.yaml", "social-pleasantry.yaml"])
def test_examples_have_generated_cases_probing_every_rule(name: str) -> None:
    doc = load_prototype(ROOT / "prototypes" / name)
    generated = [case for case in doc.cases if case.origin is not None]
    assert unprobed(doc) == [] and generated
    assert {rule for case in generated for rule in case.probes} == {ref.id for ref in rules_of(doc)}
    # written with gen-1 (before proposals carried checks); a file keeps the version that wrote each case
    assert all(case.origin is not None and case.origin.prompt_version in ("gen-1", PROMPT_VERSION)
               for case in generated)
    for case in generated:  # none repeats another case of the file
        others = DuplicateFilter.for_cases(c for c in doc.cases if c.id != case.id)
        assert others.match(case.turns[0].content) is None, case.id
