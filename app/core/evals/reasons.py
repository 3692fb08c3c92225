"""Every failure of an eval run as rows a person can scan and filter: case, variant, check, reason,
with the names the designer gave (not ids), and the names of the matrix's columns.

One home for the wording so the Evals tab and any report agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.evals.summary import assertion_ident, check_words
from app.core.prototype import EvalResult, EvalRun, Prototype


@dataclass(frozen=True)
class ReasonRow:
    case: str
    variant: str
    check: str
    reason: str

    def matches(self, needle: str) -> bool:
        """Every word of the filter appears somewhere in the row (case-insensitive)."""
        text = " ".join((self.case, self.variant, self.check, self.reason)).lower()
        return all(word in text for word in needle.lower().split())


def case_name(proto: Prototype, case_id: str) -> str:
    try:
        case = proto.case(case_id)
    except KeyError:
        return case_id
    return case.description or case.id


def variant_name(proto: Prototype, profile_id: str, model_id: str, *, baseline: bool = False) -> str:
    """"Grumpy cat × Fast model": the names the designer gave; ids for items deleted since."""
    try:
        model = proto.model(model_id).label
    except KeyError:
        model = model_id
    if baseline:
        return f"baseline × {model}"  # the same model with no system prompt
    try:
        profile = proto.profile(profile_id).label
    except KeyError:
        profile = profile_id
    return f"{profile} × {model}"


def reason_rows(proto: Prototype, run: EvalRun) -> list[ReasonRow]:
    """One row per failed check (or failed model call): the profiles' in the run's order, then the
    baseline's once per case and model.

    A run stores the baseline's results once per profile (the same answer graded for each), so at
    4 profiles the baseline's failures filled three quarters of the list four times over, above
    the failures of the variants being designed."""
    rows: list[ReasonRow] = []
    for result in run.results:
        if not result.baseline:
            rows.extend(_rows_of(proto, result))
    baseline = [row for result in run.results if result.baseline for row in _rows_of(proto, result)]
    return rows + list(dict.fromkeys(baseline))


def _rows_of(proto: Prototype, result: EvalResult) -> list[ReasonRow]:
    case = case_name(proto, result.case)
    variant = variant_name(proto, result.profile, result.model, baseline=result.baseline)
    if result.error:
        return [ReasonRow(case, variant, "model call", result.error)]
    return [
        ReasonRow(case, variant, check_words(proto, assertion_ident(result.case, a.key), a.type),
                  a.reason or "failed")
        for a in result.assertions
        if not a.passed
    ]
