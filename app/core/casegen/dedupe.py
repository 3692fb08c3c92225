"""Near-duplicate cases: normalised character-trigram Jaccard similarity, no model, no network.

Text is lower-cased, `{{var}}` placeholders and punctuation are dropped and whitespace collapsed;
the similarity of two texts is the Jaccard index of their sets of character 3-grams (over words
joined by single spaces). `DUPLICATE_THRESHOLD` = 0.6: rewordings of one request ("Write a cover
letter for a designer job" / "write a cover letter for a design job!") score 0.8-1.0, different
requests ("Write a launch blog post about offline mode" / "Write a cover letter for a designer
role") below 0.1 (`tests/casegen/test_casegen_core.py`). Its limits: one swapped word in a long
request still scores 0.8 (a duplicate), a short greeting reworded with other words 0.54 (kept).
Character grams rather than words, so plurals and small typos still match; sets rather than
counts, so repeating a word does not make a text new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.placeholders import VAR_RE
from app.core.prototype import Case

DUPLICATE_THRESHOLD = 0.6
"""Two texts at least this similar are the same case."""

_PUNCT_RE = re.compile(r"[^\w\s]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, no placeholders or punctuation, single spaces."""
    text = VAR_RE.sub(" ", text.lower())
    return " ".join(_PUNCT_RE.sub(" ", text).split())


def shingles(text: str, n: int = 3) -> frozenset[str]:
    """The set of character n-grams of the normalised text (the whole text when shorter than n)."""
    norm = normalise(text)
    if len(norm) <= n:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(norm[i : i + n] for i in range(len(norm) - n + 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard index of two shingle sets; two empty texts count as the same."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def case_text(case: Case) -> str:
    """What makes a case what it is: its user turns, in order; with none (a simulated user writes
    the first message), its script, else its simulated user's goal and persona (never "", which
    would repeat every other empty text)."""
    users = [turn.content for turn in case.turns if turn.role == "user"]
    sim = case.simulated_user
    if users or sim is None:
        return "\n".join(users)
    if sim.script:
        return "\n".join(sim.script)
    return "\n".join(text for text in (sim.goal, sim.persona) if text) or case.id


class DuplicateFilter:
    """Remembers texts seen (existing cases, then accepted proposals) and says which new one repeats one."""

    def __init__(
        self, existing: Iterable[tuple[str, str]] = (), threshold: float = DUPLICATE_THRESHOLD
    ) -> None:
        """`existing`: (label, text) pairs, e.g. (case id, its user turns)."""
        self.threshold = threshold
        self._seen: list[tuple[str, frozenset[str]]] = [(label, shingles(text)) for label, text in existing]

    @classmethod
    def for_cases(cls, cases: Iterable[Case], threshold: float = DUPLICATE_THRESHOLD) -> DuplicateFilter:
        return cls(((case.id, case_text(case)) for case in cases), threshold)

    def match(self, text: str) -> tuple[str, float] | None:
        """(label, similarity) of the most similar text seen, when it reaches the threshold."""
        grams = shingles(text)
        best: tuple[str, float] | None = None
        for label, seen in self._seen:
            score = similarity(grams, seen)
            if score >= self.threshold and (best is None or score > best[1]):
                best = (label, score)
        return best

    def add(self, label: str, text: str) -> None:
        self._seen.append((label, shingles(text)))
