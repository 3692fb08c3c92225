"""A case with a simulated user instead of fixed turns, in the document and the core rules: it loads
and saves canonically, a case with neither is refused at its position, the end of a conversation
round-trips, and labels, dedupe, exports, status and cell freshness handle a case with no turn."""

from __future__ import annotations

import pytest
import yaml

from app.core.casegen.dedupe import case_text
from app.core.document import dumps_prototype, parse_prototype
from app.core.errors import PrototypeError
from app.core.exports import Endpoint
from app.core.exports.openai_evals import export_openai_evals
from app.core.exports.promptfoo import export_promptfoo
from app.core.messages import build_messages
from app.core.prototype import ConversationEnd, Message, Run
from app.core.request_view import sent_user_message
from app.core.simulation import (
    case_label_text,
    conversation_over,
    end_words,
    fewest_turns,
    opens_conversation,
)
from app.core.status import cell_statuses
from app.core.structure import label

FILE = """\
protostudio: 3
name: opening
profiles:
  - id: p
    form_factor: chat
    system_prompt: Be brief.
models:
  - id: m
    provider: local
    model: smollm2-135m-instruct
cases:
  - id: fixed
    turns:
      - role: user
        content: What is 18% of $64?
    assert:
      - type: icontains
        value: '11'
  - id: opening
    assert:
      - type: icontains
        value: '11'
    simulated_user:
      persona: A busy PM
      goal: the tip on $64
"""


def test_a_case_with_a_simulated_user_and_no_turn_loads_and_saves_unchanged() -> None:
    proto = parse_prototype(FILE, "f.yaml")
    case = proto.case("opening")
    assert case.turns == [] and case.simulated_user is not None
    assert dumps_prototype(proto) == FILE
    assert opens_conversation(case) and not opens_conversation(proto.case("fixed"))
    assert (fewest_turns(case), fewest_turns(proto.case("fixed"))) == (0, 1)


def test_a_case_with_neither_turns_nor_a_simulated_user_is_refused_at_its_position() -> None:
    text = FILE.replace("    simulated_user:\n      persona: A busy PM\n      goal: the tip on $64\n", "")
    with pytest.raises(PrototypeError) as caught:
        parse_prototype(text, "f.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == ("f.yaml", text.splitlines().index("  - id: opening") + 1)
    assert "case 'opening' has no turns and no simulated_user" in problem.message
    assert "give it at least one turn" in problem.message


def test_an_empty_turn_list_without_a_simulated_user_is_refused_too() -> None:
    text = FILE.replace("    simulated_user:\n      persona: A busy PM\n      goal: the tip on $64\n",
                        "    turns: []\n")
    with pytest.raises(PrototypeError) as caught:
        parse_prototype(text, "f.yaml")
    assert "no turns and no simulated_user" in caught.value.problems[0].message


def test_a_profile_with_its_own_turns_sends_them_instead() -> None:
    proto = parse_prototype(FILE, "f.yaml")
    profile = proto.profiles[0].model_copy(update={"turns": proto.case("fixed").turns})
    assert not opens_conversation(proto.case("opening"), profile)


def test_the_end_of_a_conversation_round_trips_and_reads_in_words() -> None:
    proto = parse_prototype(FILE, "f.yaml")
    end = ConversationEnd(by="done", reason="got the tip")
    proto.runs.append(Run(id="r1", created="2026-01-01T00:00:00Z", profile="p", model="m", case="opening",
                          provider="local", model_name="smollm2-135m-instruct",
                          messages=[Message(role="system", content="Be brief."),
                                    Message(role="user", content="tip on 64?")],
                          output="$11.52", user_turn="simulated", conversation_end=end))
    text = dumps_prototype(proto)
    assert "    conversation_end:\n      by: done\n      reason: got the tip\n" in text
    again = parse_prototype(text, "f.yaml")
    assert again.runs[0].conversation_end == end
    assert dumps_prototype(again) == text
    assert end_words(end) == "the simulated user was done: got the tip"
    assert end_words(ConversationEnd(by="max_turns")) == "max_turns reached"
    # the engine's reason restates the end: said once ("max_turns reached: max_turns (2) reached")
    limit = ConversationEnd(by="max_turns", reason="max_turns (2) reached")
    assert end_words(limit) == "max_turns (2) reached"
    assert conversation_over(again.runs) and not conversation_over([])
    cancelled = again.runs[0].model_copy(update={"conversation_end": ConversationEnd(by="cancelled")})
    assert not conversation_over([cancelled])

    # the cell is current (its simulated first message is not the file's), and status says how it ended
    row = next(r for r in cell_statuses(again) if r.key[0] == "opening")
    assert row.current is not None and row.current.id == "r1" and not row.state.stale
    assert row.to_json()["conversation_end"] == {"by": "done", "reason": "got the tip"}
    assert row.to_json()["user_turns"] == 1
    fixed = next(r for r in cell_statuses(again) if r.key[0] == "fixed")
    assert "conversation_end" not in fixed.to_json()  # other cells' output as it was
    assert sent_user_message(again.runs[0], again.case("opening")) == "tip on 64?"


def test_an_old_run_without_a_simulated_message_is_out_of_date_for_an_opening_case() -> None:
    proto = parse_prototype(FILE, "f.yaml")
    proto.runs.append(Run(id="r1", created="2026-01-01T00:00:00Z", profile="p", model="m", case="opening",
                          provider="local", model_name="smollm2-135m-instruct",
                          messages=build_messages(proto, proto.profiles[0], proto.case("opening")),
                          output="hi"))
    (row,) = [r for r in cell_statuses(proto) if r.key[0] == "opening"]
    assert row.state.stale  # nothing was asked: not a valid answer of this case


def test_labels_dedupe_and_the_request_view_have_text_for_a_case_with_no_turn() -> None:
    proto = parse_prototype(FILE, "f.yaml")
    case = proto.case("opening")
    assert case_label_text(case) == "(simulated user) the tip on $64"
    assert label(case) == "opening: (simulated user) the tip on $64"
    assert case_text(case) == "the tip on $64\nA busy PM"
    assert sent_user_message(None, case) == "(simulated user) the tip on $64"
    scripted = case.model_copy(update={"simulated_user": case.simulated_user.model_copy(  # type: ignore[union-attr]
        update={"script": ["hello there"]})})
    assert case_text(scripted) == "hello there"
    assert case_label_text(scripted) == "(simulated user) hello there"


def test_exports_of_a_case_with_no_turn() -> None:
    """promptfoo's simulated user writes the first message there too; openai/evals needs a recorded
    conversation, and says so when the case has not run."""
    proto = parse_prototype(FILE, "f.yaml")

    def messages(profile, case):  # type: ignore[no-untyped-def]
        return build_messages(proto, profile, case)

    endpoints = {"local": Endpoint("http://127.0.0.1:9/v1", needs_key=False)}
    promptfoo = export_promptfoo(proto, messages, endpoints, base_urls={"m": "http://127.0.0.1:9/v1"})
    config = yaml.safe_load(promptfoo.files["promptfooconfig.yaml"])
    test = next(t for t in config["tests"] if t["metadata"]["case"] == "opening")
    assert test["provider"]["id"] == "promptfoo:simulated-user"
    assert "initialMessages" not in test["vars"]
    evals = export_openai_evals(proto, messages)
    assert any("'opening'" in n and "has no fixed turns, so it has no sample" in n for n in evals.notes), \
        evals.notes
    assert "What is 18% of $64?" in "".join(evals.files.values())  # the case with a fixed turn still goes


