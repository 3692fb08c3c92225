"""Which `{{vars}}` a case would send without a value (the case editor warns about them)."""

from __future__ import annotations

from app.core.placeholders import unset_vars, var_names
from app.core.prototype import Case, Profile, Turn


def test_names_in_order_of_first_use() -> None:
    assert var_names("{{ a }} {{b}} {{a}} {{ not closed") == ["a", "b"]


def test_a_var_used_by_a_profile_but_not_set_by_the_case_is_named_with_where() -> None:
    profiles = [
        Profile(id="p", name="Grumpy cat", system_prompt="You are {{cat_name}}, owned by {{owner}}."),
        Profile(id="q", custom_instructions="Answer in {{language}}."),
    ]
    case = Case(id="c", vars={"owner": "Sam"}, turns=[Turn(content="Hi {{cat_name}}, in {{mood}} mood?")])
    assert unset_vars(case, profiles) == {
        "cat_name": "the system prompt of Grumpy cat",
        "language": "the custom instructions of q",
        "mood": "turn 1",
    }


def test_nothing_missing_when_the_case_sets_every_var() -> None:
    profiles = [Profile(id="p", system_prompt="You are {{cat_name}}.")]
    case = Case(id="c", vars={"cat_name": "Tom"}, turns=[Turn(content="Hello")])
    assert unset_vars(case, profiles) == {}
