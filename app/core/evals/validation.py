"""Check every assertion of a prototype before running anything, with `file:line:col` problems."""

from __future__ import annotations

from app.core.errors import PrototypeError
from app.core.evals.assertions import AssertionSpecError, check_assertion, split_type
from app.core.locate import locate
from app.core.prototype import Assertion, Prototype
from app.core.simulation import simulation_problems


def assertion_problems(proto: Prototype) -> list[tuple[tuple[str | int, ...], str]]:
    """(YAML path, message) for each assertion that cannot be graded as written."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    models = {m.id for m in proto.models}
    profiles = {p.id for p in proto.profiles}

    def visit(path: tuple[str | int, ...], assertion: Assertion) -> None:
        if assertion.disabled:
            return
        try:
            split_type(assertion.type)
        except AssertionSpecError as exc:
            found.append(((*path, "type"), str(exc)))
            return
        try:
            check_assertion(assertion)
        except AssertionSpecError as exc:
            found.append(((*path, "value"), str(exc)))
        if assertion.judge is not None and assertion.judge not in models:
            found.append(
                (
                    (*path, "judge"),
                    f"judge {assertion.judge!r} is not a model target of this file "
                    f"(known: {', '.join(sorted(models)) or 'none'})",
                )
            )
        for index, profile_id in enumerate(assertion.profiles):
            if profile_id not in profiles:
                found.append(((*path, "profiles", index), f"profile {profile_id!r} is not in this file "
                              f"(known: {', '.join(sorted(profiles)) or 'none'})"))

    for index, assertion in enumerate(proto.default_assert):
        visit(("default_assert", index), assertion)
    for case_index, case in enumerate(proto.cases):
        for index, assertion in enumerate(case.assert_):
            visit(("cases", case_index, "assert", index), assertion)
    return found


def check_prototype_assertions(proto: Prototype, filename: str, text: str | None = None) -> None:
    """Raise PrototypeError listing every bad assertion or simulated user, located in `text` when given."""
    found = assertion_problems(proto) + simulation_problems(proto)
    if not found:
        return
    raise PrototypeError(locate(found, filename, text))
