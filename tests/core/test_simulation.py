"""Simulated users in the document and the pure simulator pieces: bounds and references reported
with file:line:col, a reader that never crashes, a prompt that names the turn, old files unchanged."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.document import dumps_prototype, parse_prototype
from app.core.errors import PrototypeError
from app.core.evals.validation import check_prototype_assertions
from app.core.prototype import Message, SimulatedUser
from app.core.simulation import (
    SIMULATOR_SCHEMA,
    SimulatorProblem,
    SimulatorReply,
    parse_reply,
    seed_for,
    simulator_messages,
)

FILE = """\
name: sim
models:
  - id: m
    provider: local
    model: smollm2-135m-instruct
cases:
  - id: tip
    turns:
      - content: What is 18% of $64?
    simulated_user:
      persona: A busy PM
      goal: the tip amount
      max_turns: {max_turns}
      model: {model}
"""


def test_a_simulated_user_loads_and_saves_unchanged() -> None:
    text = FILE.format(max_turns=3, model="m")
    proto = parse_prototype(text)
    sim = proto.case("tip").simulated_user
    assert sim is not None and (sim.max_turns, sim.model, sim.script) == (3, "m", [])
    assert dumps_prototype(parse_prototype(dumps_prototype(proto))) == dumps_prototype(proto)
    assert "simulated_user:" in dumps_prototype(proto)
    assert "user_turn" not in dumps_prototype(proto) and "turn:" not in dumps_prototype(proto)


@pytest.mark.parametrize("value", [0, 21, -1])
def test_max_turns_out_of_bounds_is_located(value: int) -> None:
    text = FILE.format(max_turns=value, model="m")
    with pytest.raises(PrototypeError) as caught:
        parse_prototype(text, "f.yaml")
    (problem,) = caught.value.problems
    line = text.splitlines().index(f"      max_turns: {value}") + 1
    assert (problem.file, problem.line) == ("f.yaml", line)
    assert "max_turns" in problem.message


def test_a_script_longer_than_max_turns_is_refused() -> None:
    text = FILE.format(max_turns=1, model="m") + "      script: [one, two]\n"
    with pytest.raises(PrototypeError) as caught:
        parse_prototype(text, "f.yaml")
    assert "script has 2 messages but max_turns is 1" in caught.value.problems[0].message


def test_an_unknown_simulator_model_is_reported_before_a_run() -> None:
    text = FILE.format(max_turns=2, model="nope")
    proto = parse_prototype(text, "f.yaml")  # loads: deleting a target must not make a file unreadable
    with pytest.raises(PrototypeError) as caught:
        check_prototype_assertions(proto, "f.yaml", text)
    (problem,) = caught.value.problems
    assert problem.line == text.splitlines().index("      model: nope") + 1
    assert "'nope' is not a model target" in problem.message and "known: m" in problem.message


def test_the_reader_takes_json_bare_fenced_or_in_prose() -> None:
    good = {"message": "and for 20%?", "done": False, "reason": "wants more"}
    for text in (json.dumps(good), f"```json\n{json.dumps(good)}\n```", f"Sure! {json.dumps(good)} ok"):
        assert parse_reply(text) == SimulatorReply("and for 20%?", False, "wants more")
    done = parse_reply('{"message": "", "done": "true", "reason": "got it"}')
    assert done == SimulatorReply("", True, "got it")


@pytest.mark.parametrize("text, why", [
    ("", "not JSON"),
    ("hello there", "not JSON"),
    ('{"message": "hi"}', "done"),
    ('{"message": 3, "done": false}', "not text"),
    ('{"message": "  ", "done": false, "reason": ""}', "empty message"),
    ('[1, 2]', "not JSON"),
    ('{"message": "cut off', "not JSON"),
])
def test_a_bad_reply_is_a_problem_with_a_reason(text: str, why: str) -> None:
    result = parse_reply(text)
    assert isinstance(result, SimulatorProblem) and why in result.reason


@given(st.text(max_size=300))
def test_the_reader_never_raises(text: str) -> None:
    assert isinstance(parse_reply(text), SimulatorReply | SimulatorProblem)


def test_the_prompt_names_persona_goal_and_turn_and_hides_the_system_prompt() -> None:
    sim = SimulatedUser(persona="A busy PM", goal="the tip", max_turns=3)
    history = [Message(role="system", content="SECRET SYSTEM"), Message(role="user", content="18%?"),
               Message(role="assistant", content="$11.52")]
    first = simulator_messages(sim, history, 1)
    second = simulator_messages(sim, history, 2)
    text = "\n".join(m.content for m in first)
    assert "A busy PM" in text and "the tip" in text and "USER: 18%?" in text and "ASSISTANT: $11.52" in text
    assert "SECRET SYSTEM" not in text
    assert "user message 1 of at most 3" in first[-1].content
    assert first != second  # the turn is part of the request, so of its cache key


def test_the_schema_requires_message_done_and_reason() -> None:
    assert SIMULATOR_SCHEMA["required"] == ["message", "done", "reason"]


def test_the_seed_is_the_cases_or_stable_per_case() -> None:
    proto = parse_prototype(FILE.format(max_turns=2, model="m"))
    case = proto.case("tip")
    assert seed_for(case) == seed_for(case.model_copy(deep=True))
    assert seed_for(case) != seed_for(case.model_copy(update={"id": "other"}))
    assert case.simulated_user is not None
    case.simulated_user.seed = 5
    assert seed_for(case) == 5
