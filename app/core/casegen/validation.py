"""`probes:` that name a rule the file does not have, located for `protostudio validate`.

Not a load error: renaming or deleting a rule must not make a file unopenable, so a dangling probe
is reported by `validate` (exit 2, `file:line:col`) like an assertion that cannot be graded.
"""

from __future__ import annotations

from app.core.casegen.grid import rules_of
from app.core.errors import PrototypeError
from app.core.locate import locate
from app.core.prototype import Prototype


def probe_problems(proto: Prototype) -> list[tuple[tuple[str | int, ...], str]]:
    """(YAML path, message) for each probe naming an unknown rule id."""
    known = [ref.id for ref in rules_of(proto)]
    found: list[tuple[tuple[str | int, ...], str]] = []
    for case_index, case in enumerate(proto.cases):
        for index, rule_id in enumerate(case.probes):
            if rule_id not in known:
                found.append((("cases", case_index, "probes", index),
                              f"case {case.id!r} probes unknown rule {rule_id!r} "
                              f"(rules: {', '.join(known) or 'none'})"))
    return found


def check_probes(proto: Prototype, filename: str, text: str | None = None) -> None:
    """Raise PrototypeError listing every dangling probe, located in `text` when given."""
    found = probe_problems(proto)
    if not found:
        return
    raise PrototypeError(locate(found, filename, text))
