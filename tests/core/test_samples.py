from __future__ import annotations

from app.core.prototype import ModelParams, Run
from app.core.samples import offers_new_sample, variation


def _run(output: str, *, cached: bool = False, status: str = "ok", sample: int = 0) -> Run:
    return Run(id=f"r{sample}{len(output)}", created="2026-01-01T00:00:00Z", profile="p", model="m",
               case="c", sample=sample, output=output, cached=cached, status=status)


def test_variation_in_words() -> None:
    same = variation([_run("Meow.\nI am hungry."), _run("Meow.\nFeed me now, human!", sample=1)])
    assert same is not None and same.same_first_line
    assert same.words() == "2 samples · same first line · 18–25 chars"
    differ = variation([_run("Hi"), _run("Hello", sample=1), _run("", status="error", sample=2)])
    assert differ is not None and differ.count == 2
    assert differ.words().endswith("first lines differ · 2–5 chars")
    assert variation([_run("only one")]) is None


def test_new_sample_offered_for_a_cached_answer_that_samples() -> None:
    cached = _run("x", cached=True)
    assert offers_new_sample(cached, ModelParams(temperature=0.7))
    assert offers_new_sample(cached, ModelParams())
    assert not offers_new_sample(cached, ModelParams(temperature=0))
    assert not offers_new_sample(_run("x"), ModelParams(temperature=0.7))
