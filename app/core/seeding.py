"""Seed evals from what people rated: proposals a person reviews before they are written into the file.

- a thumbs-up output becomes a reference answer for its case (`similar`);
- a thumbs-down output becomes a negative reference for its case (`not-similar`);
- the note on a thumbs-down becomes a draft `llm-rubric` for its case;
- each behavior-spec rule becomes an `llm-rubric` for every case (`default_assert`) scoped to
  its profile (`profiles: [id]`: another profile's rules do not bind it), and its good/bad
  examples become `similar` / `not-similar` references there too, scoped the same way.

Proposals that already exist in the file (same type and value where they would go) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.evals.textchecks import one_line
from app.core.prototype import Assertion, Prototype
from app.core.ratings import rating_of

DEFAULT_TARGET = "default_assert"
"""`Proposal.target` for assertions that apply to every case."""


@dataclass(frozen=True)
class Proposal:
    """One assertion to add, where it goes (`default_assert` or a case id), and where it came from."""

    target: str
    assertion: Assertion
    origin: str

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "origin": self.origin,
            "assertion": self.assertion.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        }


def propose(proto: Prototype) -> list[Proposal]:
    """Every assertion the ratings and behavior specs suggest that the file does not already have."""
    proposals: list[Proposal] = []
    seen: set[tuple[str, str, str, tuple[str, ...]]] = set()

    def add(target: str, type_: str, value: str, origin: str, profiles: tuple[str, ...] = ()) -> None:
        key = (target, type_, value.strip(), profiles)
        if key in seen or not value.strip():
            return
        seen.add(key)
        assertion = Assertion(type=type_, value=value, description=origin, profiles=list(profiles))
        proposals.append(Proposal(target, assertion, origin))

    for target, assertion in _existing(proto):
        seen.add((target, assertion.type, str(assertion.value).strip(), tuple(assertion.profiles)))
    case_ids = {c.id for c in proto.cases}
    for run in proto.runs:
        if run.case not in case_ids or run.status != "ok" or run.parent is not None or not run.output.strip():
            continue
        where = f"{run.id} ({run.profile} × {run.model})"
        rating = rating_of(run)
        if rating.thumb == "up":
            add(run.case, "similar", run.output, f"seeded from a thumbs-up on {where}")
        elif rating.thumb == "down":
            add(run.case, "not-similar", run.output, f"seeded from a thumbs-down on {where}")
            if rating.note.strip():
                add(
                    run.case,
                    "llm-rubric",
                    rubric_from_note(rating.note),
                    f"drafted from the note on a thumbs-down on {where}: {one_line(rating.note, 80)}",
                )
    for profile in proto.profiles:
        for rule in profile.behavior_spec:
            origin = f"rule {rule.id!r} of profile {profile.id!r}"
            scope = (profile.id,)
            rubric = f"seeded from the behavior spec: {origin}"
            add(DEFAULT_TARGET, "llm-rubric", rule.rule.strip(), rubric, scope)
            for example in rule.good:
                add(DEFAULT_TARGET, "similar", example, f"good example of {origin}", scope)
            for example in rule.bad:
                add(DEFAULT_TARGET, "not-similar", example, f"bad example of {origin}", scope)
    return proposals


def rubric_from_note(note: str) -> str:
    """A draft rubric from a reviewer's note on a bad answer. Drafts are meant to be edited."""
    text = " ".join(note.split())
    return f"The response must not have the problem a reviewer found in an earlier answer: {text}"


def apply(proto: Prototype, proposals: list[Proposal]) -> int:
    """Append accepted proposals to the prototype (in place); returns how many were added."""
    added = 0
    for proposal in proposals:
        if proposal.target == DEFAULT_TARGET:
            proto.default_assert.append(proposal.assertion)
        else:
            proto.case(proposal.target).assert_.append(proposal.assertion)
        added += 1
    return added


def _existing(proto: Prototype) -> list[tuple[str, Assertion]]:
    items = [(DEFAULT_TARGET, a) for a in proto.default_assert]
    for case in proto.cases:
        items.extend((case.id, a) for a in case.assert_)
    return items
