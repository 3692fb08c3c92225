"""Several samples of one cell: how much they vary, in words a designer can scan ("same first line,
120–340 chars"), and when a re-run should draw a new sample instead of replaying the cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.prototype import ModelParams, Run

MAX_SAMPLES = 10
"""Most samples the app asks for per cell at once (the CLI's `--repeat` has no cap)."""


@dataclass(frozen=True)
class Variation:
    count: int
    same_first_line: bool
    shortest: int
    longest: int

    def words(self) -> str:
        first = "same first line" if self.same_first_line else "first lines differ"
        same_size = self.shortest == self.longest
        size = f"{self.shortest} chars" if same_size else f"{self.shortest}–{self.longest} chars"
        return f"{self.count} samples · {first} · {size}"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def variation(answers: Sequence[Run]) -> Variation | None:
    """How the answered samples differ; None with fewer than two answers."""
    texts = [r.output for r in answers if r.status == "ok" or r.output]
    if len(texts) < 2:
        return None
    lengths = [len(t) for t in texts]
    return Variation(
        count=len(texts),
        same_first_line=len({_first_line(t) for t in texts}) == 1,
        shortest=min(lengths),
        longest=max(lengths),
    )


def offers_new_sample(run: Run, params: ModelParams) -> bool:
    """A cached answer from a model that samples (temperature unset means the endpoint's default,
    which is above 0 everywhere we know): the person likely wants a new draw, not the replay."""
    return run.cached and (params.temperature is None or params.temperature > 0)
