"""Which probes to ask a model for: a grid of rule x probe kind x persona, and rule coverage.

A *probe* is one request for one proposed case. The grid is walked so that the first few probes
already spread over every chosen rule, then over kinds, then personas: asking for 6 cases of
3 rules gives each rule two different kinds, not six typical cases of the first rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.prototype import Profile, Prototype, Rule

PROBE_KINDS: dict[str, str] = {
    "typical": "an ordinary, realistic request where the rule clearly applies",
    "boundary": "a request right at the edge of the rule, where it only just applies or only just does not",
    "ambiguous": "a request that could reasonably be read two ways, so applying the rule needs judgement",
    "adversarial": "a user who pushes against the rule: insists, argues, or tries to get the assistant "
    "to break it",
    "off-topic": "a request unrelated to the rule, to check the assistant does not apply it where it "
    "does not belong",
    "other-language": "a request in a language other than English (pick one: Spanish, French, German, "
    "Japanese, Portuguese...) where the rule applies",
}
"""Probe kind -> what the model is asked to write. Keys are what `origin.kind` records."""

PERSONAS: tuple[str, ...] = (
    "a busy professional who writes tersely",
    "a first-time user who is unsure what the assistant can do",
    "a detail-oriented expert in the subject",
    "a non-native English speaker who writes simply",
    "a frustrated user in a hurry",
)
"""Who the generated user is. Five, so it cycles independently of the six kinds."""


@dataclass(frozen=True)
class RuleRef:
    """A behavior-spec rule and the profiles that state it (rule ids are unique per profile, not per file)."""

    id: str
    rule: Rule
    profiles: tuple[Profile, ...]
    stand_in: bool = False
    """Not a rule of the file: what the system prompts ask, for a file with no behavior spec yet.
    Cases written for it probe no rule (`probes: []`)."""


PROMPT_RULE_ID = "system-prompt"
PROMPT_RULE_TEXT = "The assistant does what its system prompt asks, in what it says and how it says it."


def prompt_stand_in(proto: Prototype) -> RuleRef | None:
    """The rule to generate from when the file has none: its system prompts (or its description).

    None when there is nothing to generate from at all."""
    prompted = tuple(p for p in proto.profiles if p.system_prompt.strip())
    if not proto.profiles or (not prompted and not proto.description.strip()):
        return None
    rule = Rule(id=PROMPT_RULE_ID, rule=PROMPT_RULE_TEXT)
    return RuleRef(PROMPT_RULE_ID, rule, prompted or tuple(proto.profiles[:1]), stand_in=True)


@dataclass(frozen=True)
class Probe:
    """One cell of the grid: ask for one case testing `rule` as `kind`, written by `persona`."""

    index: int
    rule: RuleRef
    kind: str
    persona: str
    seed: int


def rules_of(proto: Prototype) -> list[RuleRef]:
    """Every rule id of the file once, in file order; a rule id shared by profiles lists them all."""
    found: dict[str, RuleRef] = {}
    for profile in proto.profiles:
        for rule in profile.behavior_spec:
            known = found.get(rule.id)
            if known is None:
                found[rule.id] = RuleRef(rule.id, rule, (profile,))
            else:
                found[rule.id] = RuleRef(rule.id, known.rule, (*known.profiles, profile))
    return list(found.values())


def unprobed(proto: Prototype) -> list[str]:
    """The rule ids no case lists in `probes:` yet, in file order: what "fill these" generates for."""
    probed = {rule_id for case in proto.cases for rule_id in case.probes}
    return [ref.id for ref in rules_of(proto) if ref.id not in probed]


class GridError(ValueError):
    """The grid cannot be built as asked (no rules, unknown rule id, bad count)."""


def plan_probes(
    proto: Prototype,
    rule_ids: list[str] | None = None,
    count: int | None = None,
    *,
    kinds: list[str] | None = None,
    seed: int = 0,
) -> list[Probe]:
    """`count` probes over the chosen rules (all when empty), kinds and personas, seeded `seed`, `seed+1`...

    Default count: two per chosen rule. Raises GridError naming unknown rule ids and the known ones."""
    refs = rules_of(proto)
    if not refs:
        stand_in = prompt_stand_in(proto)
        if stand_in is None:
            raise GridError("nothing to generate cases from: write a system prompt, a description, "
                            "or behavior-spec rules first")
        refs = [stand_in]
    if rule_ids:
        known = {ref.id: ref for ref in refs}
        unknown = [r for r in dict.fromkeys(rule_ids) if r not in known]
        if unknown:
            raise GridError(f"unknown rule {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
        chosen = [known[r] for r in dict.fromkeys(rule_ids)]
    else:
        chosen = refs
    kind_names = list(dict.fromkeys(kinds)) if kinds else list(PROBE_KINDS)
    bad_kinds = [k for k in kind_names if k not in PROBE_KINDS]
    if bad_kinds:
        raise GridError(f"unknown probe kind {', '.join(map(repr, bad_kinds))} "
                        f"(known: {', '.join(PROBE_KINDS)})")
    total = 2 * len(chosen) if count is None else count
    if total < 1:
        raise GridError(f"count must be at least 1, not {total}")
    probes = []
    for index in range(total):
        round_ = index // len(chosen)
        probes.append(Probe(
            index=index,
            rule=chosen[index % len(chosen)],
            kind=kind_names[round_ % len(kind_names)],
            persona=PERSONAS[(index + round_) % len(PERSONAS)],
            seed=seed + index,
        ))
    return probes
