"""`profiles: [id, ...]` on an assertion: checks apply only to the profiles they name (default: all)."""

from __future__ import annotations

from pathlib import Path

from app.core.document import load_prototype
from app.core.evals.validation import assertion_problems
from app.core.prototype import Assertion, Case, Profile, Prototype, Rule, Turn
from app.core.seeding import DEFAULT_TARGET, propose
from app.engine.evals import case_assertions


def test_spec_rules_are_proposed_for_their_own_profile_only(prototypes_dir: Path) -> None:
    proto = load_prototype(prototypes_dir / "cat-persona.yaml")
    spec_proposals = [p for p in propose(proto) if p.target == DEFAULT_TARGET]
    assert spec_proposals
    owners = {p.id for p in proto.profiles if p.behavior_spec}
    for proposal in spec_proposals:
        assert len(proposal.assertion.profiles) == 1 and proposal.assertion.profiles[0] in owners
        assert proposal.assertion.profiles[0] in proposal.origin


def test_grading_picks_the_assertions_that_apply_to_the_profile() -> None:
    proto = Prototype(
        name="x",
        profiles=[Profile(id="meow", behavior_spec=[Rule(id="r", rule="only meows")]), Profile(id="helpful")],
        cases=[Case(id="c", turns=[Turn(content="hi")], assert_=[Assertion(type="contains", value="x")])],
        default_assert=[Assertion(type="llm-rubric", value="only meows", profiles=["meow"])],
    )
    assert [k for k, _ in case_assertions(proto, "c", "meow")] == ["default_assert[0]", "assert[0]"]
    assert [k for k, _ in case_assertions(proto, "c", "helpful")] == ["assert[0]"]
    assert [k for k, _ in case_assertions(proto, "c")] == ["default_assert[0]", "assert[0]"]


def test_an_unknown_profile_in_a_scope_is_a_problem() -> None:
    proto = Prototype(name="x", profiles=[Profile(id="a")],
                      default_assert=[Assertion(type="contains", value="x", profiles=["b"])])
    assert assertion_problems(proto) == [
        (("default_assert", 0, "profiles", 0), "profile 'b' is not in this file (known: a)")]
