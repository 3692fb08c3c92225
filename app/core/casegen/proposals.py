"""A proposed case, and turning the accepted ones into normal cases of the prototype.

`accept` is the one way proposals enter a file, for the CLI and the GUI alike: ids unique in the
file, the rule it probes in `probes:`, where it came from in `origin:`, and the vars the profiles'
prompts need (taken from the existing cases) so the new case sends the same kind of system prompt.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.casegen.checks import ProposedChecks
from app.core.casegen.grid import PROMPT_RULE_ID, Probe
from app.core.placeholders import VAR_RE
from app.core.prototype import Assertion, Case, CaseOrigin, Prototype, Turn

ID_MAX = 60


@dataclass(frozen=True)
class Proposal:
    """One proposed case: what to send, what it checks, which probe asked for it, and who wrote it."""

    index: int
    rule_id: str
    kind: str
    persona: str
    seed: int
    user_message: str
    description: str
    model: str
    prompt_version: str
    duplicate_of: str | None = None
    """The case id or proposal (`proposal N`) it repeats; such proposals are dropped, not offered."""
    similarity: float | None = None
    checks: tuple[Assertion, ...] = ()
    """Proposed checks that validate like hand-written assertions; written as the case's `assert:`."""
    dropped_checks: tuple[str, ...] = ()
    """One line per proposed check that did not validate (never written), saying why."""

    @classmethod
    def from_probe(cls, probe: Probe, user_message: str, description: str, model: str,
                   prompt_version: str, *, checks: ProposedChecks | None = None) -> Proposal:
        checks = checks or ProposedChecks()
        return cls(probe.index, probe.rule.id, probe.kind, probe.persona, probe.seed, user_message,
                   description, model, prompt_version, checks=checks.checks, dropped_checks=checks.dropped)

    @property
    def label(self) -> str:
        """`proposal 3`: how a duplicate of it names it."""
        return f"proposal {self.index + 1}"

    def edited(self, user_message: str, description: str | None = None) -> Proposal:
        """The same proposal with the designer's edit."""
        return replace(self, user_message=user_message,
                       description=self.description if description is None else description)

    def with_checks(self, keep: list[bool]) -> Proposal:
        """The same proposal keeping only the checks ticked in `keep` (one flag per check)."""
        return replace(self, checks=tuple(c for c, k in zip(self.checks, keep, strict=True) if k))

    def to_json(self) -> dict[str, Any]:
        """The stable shape `protostudio generate --json` prints (see docs/prototype-format.md)."""
        return {
            "index": self.index,
            "rule": self.rule_id,
            "kind": self.kind,
            "persona": self.persona,
            "seed": self.seed,
            "user_message": self.user_message,
            "description": self.description,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "duplicate_of": self.duplicate_of,
            "similarity": None if self.similarity is None else round(self.similarity, 3),
            "checks": [c.model_dump(mode="json", by_alias=True, exclude_defaults=True) for c in self.checks],
            "dropped_checks": list(self.dropped_checks),
        }


@dataclass
class GenerationResult:
    """What one generation produced so far: kept proposals, dropped duplicates and failed probes.

    Filled as replies arrive, so whatever came in before a cancel or a fault is still here."""

    requested: int = 0
    seed: int | None = None
    """The base seed: probe i was sent with seed + i. Generating again with it repeats the requests."""
    proposals: list[Proposal] = field(default_factory=list)
    duplicates: list[Proposal] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """One line per probe that gave no proposal: the model call failed or its reply did not parse."""
    cancelled: bool = False

    @property
    def received(self) -> int:
        return len(self.proposals) + len(self.duplicates)

    @property
    def duplicate_share(self) -> float:
        """Dropped duplicates over proposals received (0 when none were)."""
        return len(self.duplicates) / self.received if self.received else 0.0


def case_from(proposal: Proposal, proto: Prototype, taken: set[str]) -> Case:
    """A normal case for an accepted proposal; its id is added to `taken`."""
    case_id = _unique_id(f"gen-{proposal.rule_id}-{proposal.kind}", taken)
    taken.add(case_id)
    return Case(
        id=case_id,
        description=proposal.description,
        vars=_vars_needed(proto),
        turns=[Turn(role="user", content=proposal.user_message)],
        assert_=list(proposal.checks),
        probes=[] if proposal.rule_id == PROMPT_RULE_ID else [proposal.rule_id],
        origin=CaseOrigin(model=proposal.model, seed=proposal.seed, prompt_version=proposal.prompt_version,
                          kind=proposal.kind, persona=proposal.persona),
    )


def accept(proto: Prototype, proposals: list[Proposal]) -> list[Case]:
    """Append a case per proposal at the end of `cases:` (existing cases keep their order); returns them."""
    taken = {case.id for case in proto.cases}
    added = [case_from(proposal, proto, taken) for proposal in proposals]
    proto.cases = [*proto.cases, *added]
    return added


def _unique_id(base: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", base).strip("-")[:ID_MAX] or "gen"
    number = 1
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _vars_needed(proto: Prototype) -> dict[str, str]:
    """Values for the `{{vars}}` the profiles' prompts use: the most common value among existing cases."""
    names: list[str] = []
    for profile in proto.profiles:
        texts = [profile.system_prompt, profile.custom_instructions,
                 *(rule.rule for rule in profile.behavior_spec)]
        for text in texts:
            names.extend(match.group(1) for match in VAR_RE.finditer(text))
    values: dict[str, str] = {}
    for name in dict.fromkeys(names):
        seen = Counter(case.vars[name] for case in proto.cases if name in case.vars)
        if seen:
            values[name] = seen.most_common(1)[0][0]
    return values
