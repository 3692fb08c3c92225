"""'turn 2 of up to 6': which exchange of a simulated conversation a cell is answering."""

from __future__ import annotations

from app.core.prototype import Case, Profile, SimulatedUser, Turn
from app.core.run_words import progress_words
from app.core.simulation import most_replies, turn_words


def test_a_fixed_first_turn_counts_as_turn_one() -> None:
    case = Case(id="c", turns=[Turn(content="Hi")], simulated_user=SimulatedUser(max_turns=5))
    assert most_replies(case) == 6
    assert [turn_words(case, None, n) for n in (0, 1, 5)] == [
        "turn 1 of up to 6", "turn 2 of up to 6", "turn 6 of up to 6"]


def test_an_opening_simulated_user_writes_turn_one() -> None:
    case = Case(id="c", simulated_user=SimulatedUser(max_turns=3))
    assert most_replies(case) == 3
    assert turn_words(case, None, 1) == "turn 1 of up to 3"
    scripted = Profile(id="p", turns=[Turn(content="Hello")])  # the profile's own turn opens instead
    assert turn_words(case, scripted, 1) == "turn 2 of up to 4"


def test_a_plain_case_has_no_turn_words_and_replies_are_counted_as_replies() -> None:
    assert turn_words(Case(id="c", turns=[Turn(content="Hi")]), None, 0) == ""
    assert most_replies(Case(id="c", turns=[Turn(content="Hi")])) == 1
    assert progress_words(3, 14, running=True, replies=True) == "3 of up to 14 replies"
    assert progress_words(3, 14, running=True) == "3 of 14 done"
