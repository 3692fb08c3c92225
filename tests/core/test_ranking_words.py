from __future__ import annotations

from app.core.ranking_words import overlapping_pairs, ranking_words
from app.core.scoring import Variant, VariantScore


def _score(
    name: str, bt: float | None, low: float | None, high: float | None, votes: int = 10
) -> VariantScore:
    return VariantScore(Variant(name, "m"), name, 0, 0, None, 0, 0, 0, 0, None, bt, low, high, votes)


def test_overlap_is_said_in_words() -> None:
    a, b, c = _score("A", 1100, 1050, 1150), _score("B", 1000, 960, 1040), _score("C", 980, 940, 1020)
    assert [(x.label, y.label) for x, y in overlapping_pairs([c, a, b])] == [("B", "C")]
    words = ranking_words([a, b, c])
    assert "B and C" in words and "A and B" not in words


def test_all_overlapping_and_clear_orders() -> None:
    a, b = _score("A", 1010, 900, 1100), _score("B", 990, 890, 1090)
    assert "Too few votes to rank" in ranking_words([a, b])
    clear = [_score("A", 1200, 1150, 1250), _score("B", 900, 850, 950)]
    assert ranking_words(clear) == ""
    assert ranking_words([_score("A", None, None, None)]) == ""


def test_one_vote_is_too_few_even_with_a_zero_width_interval() -> None:
    a, b = _score("A", 1095, 1095, 1095, votes=1), _score("B", 905, 905, 905, votes=1)
    assert "Too few votes to rank yet" in ranking_words([a, b])
