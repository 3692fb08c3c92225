"""Edits to a prototype's lists (profiles, model targets, cases) that keep references consistent.

Pure functions on the pydantic prototype (core, so every front end shares the unique-id and
delete-cascade rules); the navigator calls them and then tells the Document
(`structure_edited`). Ids are derived from names (`fake-fast`, not `model-copy`) and follow a
rename only while nothing refers to them; once a run, vote, eval result, batch or check points
at an id it never changes, and a rename edits only the display name. Every view shows the new
name at once because they all look names up by id when they draw.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from app.core.prototype import (
    Assertion,
    Case,
    EvalResult,
    ModelTarget,
    Preference,
    Profile,
    Prototype,
    Run,
    Turn,
)
from app.core.simulation import case_label_text

Kind = Literal["profiles", "models", "cases"]
KINDS: tuple[Kind, ...] = ("profiles", "models", "cases")
LOCAL_PROVIDER = "local"
LOCAL_MODEL = "smollm2-135m-instruct"

Item = Profile | ModelTarget | Case
_I = TypeVar("_I", Profile, ModelTarget, Case)


def items(proto: Prototype, kind: Kind) -> list[Profile] | list[ModelTarget] | list[Case]:
    if kind == "profiles":
        return proto.profiles
    if kind == "models":
        return proto.models
    return proto.cases


def label(item: Profile | ModelTarget | Case) -> str:
    """What a person sees for an item in lists and column headers."""
    if isinstance(item, Case):
        if item.description:
            return item.description
        first = " ".join(case_label_text(item).split())  # who the simulated user is, with no turn
        return f"{item.id}: {first[:60]}" if first else item.id
    return item.label


def display_name(item: Profile | ModelTarget | Case) -> str:
    return item.description if isinstance(item, Case) else item.name


def rename(item: Profile | ModelTarget | Case, name: str) -> None:
    if isinstance(item, Case):
        item.description = name
    else:
        item.name = name


MAX_SLUG = 40
"""Ids stay short enough to read in a column header and a CLI table."""


def slug(name: str, fallback: str) -> str:
    """`Fake fast (copy)` -> `fake-fast-copy`: lower-case ASCII words joined by `-`, else `fallback`."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    text = "-".join(words)[:MAX_SLUG].strip("-")
    return text or fallback


def id_in_use(proto: Prototype, kind: Kind, item_id: str) -> bool:
    """Whether anything in the file points at this id, so changing it would break a reference."""
    field = {"profiles": "profile", "models": "model", "cases": "case"}[kind]
    if any(getattr(r, field) == item_id for r in proto.runs):
        return True
    if any(getattr(r, field) == item_id for e in proto.evals for r in e.results):
        return True
    if any(getattr(c, field) == item_id for b in proto.batches for c in b.cells):
        return True
    checks = [*proto.default_assert, *(a for case in proto.cases for a in case.assert_)]
    if kind == "profiles":
        return any(item_id in a.profiles for a in checks)
    if kind == "models":
        judged = any(a.judge == item_id for a in checks)
        return judged or any(c.simulated_user is not None and c.simulated_user.model == item_id
                             for c in proto.cases)
    return False


def follow_name(proto: Prototype, kind: Kind, item_id: str) -> str:
    """Re-derive an item's id from its name while nothing refers to it; returns its (new) id."""
    item = next(i for i in items(proto, kind) if i.id == item_id)
    name = display_name(item)
    if not name.strip() or id_in_use(proto, kind, item_id):
        return item_id
    wanted = slug(name, SINGULAR_ID[kind])
    if wanted == item_id or re.fullmatch(rf"{re.escape(wanted)}-\d+", item_id):
        return item_id  # already derived from this name (a `-2` keeps it unique)
    item.id = _unique_id(proto, kind, wanted, ignore=item_id)
    return item.id


SINGULAR_ID: dict[Kind, str] = {"profiles": "profile", "models": "model", "cases": "case"}


def _unique_id(proto: Prototype, kind: Kind, base: str, *, ignore: str | None = None) -> str:
    """`base`, or `base-2`, `base-3`, ...: the first id not taken in that list (`ignore`: the item's own)."""
    taken = {i.id for i in items(proto, kind)} - {ignore}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def add(proto: Prototype, kind: Kind) -> Profile | ModelTarget | Case:
    """Append a new, valid item with a fresh id and return it."""
    item: Profile | ModelTarget | Case
    if kind == "profiles":
        item = Profile(
            id=_unique_id(proto, kind, slug("New profile", "profile")),
            name="New profile",
            system_prompt="You are a helpful assistant.",
        )
    elif kind == "models":
        item = ModelTarget(
            id=_unique_id(proto, kind, slug("New model", "model")),
            provider=LOCAL_PROVIDER,
            model=LOCAL_MODEL,
            name="New model",
        )
    else:
        item = Case(id=_unique_id(proto, kind, "case"), turns=[Turn(role="user", content="Hello!")])
    _insert(proto, item, None)
    return item


def _insert(proto: Prototype, item: Item, index: int | None) -> None:
    """Put an item in its own list (at the end when `index` is None)."""
    if isinstance(item, Profile):
        _put(proto.profiles, item, index)
    elif isinstance(item, ModelTarget):
        _put(proto.models, item, index)
    else:
        _put(proto.cases, item, index)


def _put(seq: list[_I], item: _I, index: int | None) -> None:
    if index is None:
        seq.append(item)
    else:
        seq.insert(index, item)


def duplicate(proto: Prototype, kind: Kind, item_id: str) -> Profile | ModelTarget | Case:
    """Insert a copy right after the original, with a new id and "(copy)" in its name."""
    seq: list[Item] = list(items(proto, kind))
    index = next(i for i, it in enumerate(seq) if it.id == item_id)
    original = seq[index]
    copy = original.model_copy(deep=True)
    rename(copy, f"{label(original)} (copy)")
    copy.id = _unique_id(proto, kind, slug(display_name(copy), f"{original.id}-copy"))
    _insert(proto, copy, index + 1)
    return copy


def runs_of(proto: Prototype, kind: Kind, item_id: str) -> list[str]:
    field = {"profiles": "profile", "models": "model", "cases": "case"}[kind]
    return [r.id for r in proto.runs if getattr(r, field) == item_id]


def delete(proto: Prototype, kind: Kind, item_id: str) -> int:
    """Remove the item and everything that only made sense with it. Returns how many runs went.

    Its runs go, with the votes on them; eval results keep their verdicts but no longer point
    at a run; a deleted profile leaves assertion scopes (`profiles:`), and an assertion scoped
    to that profile alone goes with it (an empty scope would mean every profile).
    `remove` does the same and says exactly what went, so `restore` can put it back.
    """
    return len(remove(proto, kind, item_id).runs)


@dataclass
class Deleted:
    """Everything one delete took out of a prototype, with positions, so `restore` puts it back exactly.

    It holds the removed objects themselves (no copies): once out of the prototype nothing else
    edits them, and a delete of one case among 10,000 runs costs a few lists, not a deep copy.
    """

    kind: Kind
    item: Item
    index: int
    runs: list[tuple[int, Run]] = field(default_factory=list)
    """(position in `proto.runs`, run), in ascending position."""
    preferences: list[tuple[int, Preference]] = field(default_factory=list)
    cut_parents: list[tuple[Run, str]] = field(default_factory=list)
    """Runs kept whose `parent` (a removed run) was cut, with the parent id."""
    unlinked: list[tuple[EvalResult, str]] = field(default_factory=list)
    """Eval results kept whose `run` (a removed run) was cleared, with the run id."""
    scopes: list[tuple[list[Assertion], list[Assertion]]] = field(default_factory=list)
    """(an assertion list, its items before the delete) for each list a profile delete changed."""
    narrowed: list[tuple[Assertion, list[str]]] = field(default_factory=list)
    """(assertion, its `profiles` before the delete)."""
    late_runs: list[Run] = field(default_factory=list)
    """Runs of this item that ended after it was deleted (a run in flight): `restore` appends them."""


def remove(proto: Prototype, kind: Kind, item_id: str) -> Deleted:
    """`delete`, returning the record that `restore` needs to undo it."""
    seq: list[Item] = list(items(proto, kind))
    index = next(n for n, it in enumerate(seq) if it.id == item_id)
    record = Deleted(kind, seq[index], index)
    if kind == "profiles":
        proto.profiles = [it for it in proto.profiles if it.id != item_id]
        _drop_from_scopes(proto, item_id, record)
    elif kind == "models":
        proto.models = [it for it in proto.models if it.id != item_id]
    else:
        proto.cases = [it for it in proto.cases if it.id != item_id]
    field_name = {"profiles": "profile", "models": "model", "cases": "case"}[kind]
    record.runs = [(n, r) for n, r in enumerate(proto.runs) if getattr(r, field_name) == item_id]
    gone = {r.id for _n, r in record.runs}
    if gone:
        proto.runs = [r for r in proto.runs if r.id not in gone]
        record.preferences = [(n, p) for n, p in enumerate(proto.preferences) if p.a in gone or p.b in gone]
        if record.preferences:
            proto.preferences = [p for p in proto.preferences if p.a not in gone and p.b not in gone]
        for run in proto.runs:  # a continuation of a deleted run becomes a fresh thread
            if run.parent is not None and run.parent in gone:
                record.cut_parents.append((run, run.parent))
                run.parent = None
        for eval_run in proto.evals:
            for result in eval_run.results:
                if result.run is not None and result.run in gone:
                    record.unlinked.append((result, result.run))
                    result.run = None
    return record


def restore(proto: Prototype, record: Deleted) -> None:
    """Undo `remove`: the item at its index, its runs and votes at their positions, links and scopes.

    Things added since the delete (new runs, votes) keep their order after the restored ones.
    """
    _insert(proto, record.item, min(record.index, len(items(proto, record.kind))))
    if record.runs or record.late_runs:
        proto.runs = [*_merged(proto.runs, record.runs), *record.late_runs]
    if record.preferences:
        proto.preferences = _merged(proto.preferences, record.preferences)
    for run, parent in record.cut_parents:
        run.parent = parent
    for result, run_id in record.unlinked:
        result.run = run_id
    for assertion, profiles in record.narrowed:
        assertion.profiles = profiles
    for assertions, before in record.scopes:
        assertions[:] = before


_T = TypeVar("_T")


def _merged(kept: list[_T], placed: list[tuple[int, _T]]) -> list[_T]:
    """`kept` with each placed item back at its position (ascending), in one pass."""
    out: list[_T] = []
    rest = iter(kept)
    for position, item in placed:
        while len(out) < position:
            nxt = next(rest, None)
            if nxt is None:
                break
            out.append(nxt)
        out.append(item)
    out.extend(rest)
    return out


def _drop_from_scopes(proto: Prototype, profile_id: str, record: Deleted | None = None) -> None:
    lists = [proto.default_assert, *(case.assert_ for case in proto.cases)]
    for assertions in lists:
        kept = []
        changed = False
        for assertion in assertions:
            if profile_id in assertion.profiles:
                changed = True
                if record is not None:
                    record.narrowed.append((assertion, assertion.profiles))
                assertion.profiles = [p for p in assertion.profiles if p != profile_id]
                if not assertion.profiles:
                    continue
            kept.append(assertion)
        if changed and record is not None:
            record.scopes.append((assertions, list(assertions)))
        assertions[:] = kept


def reorder(proto: Prototype, kind: Kind, ids: list[str]) -> None:
    """Put the items in the order of `ids` (ids not listed keep their relative order at the end)."""
    rank = {item_id: n for n, item_id in enumerate(ids)}

    def key(item: Item) -> int:
        return rank.get(item.id, len(rank))

    if kind == "profiles":
        proto.profiles.sort(key=key)
    elif kind == "models":
        proto.models.sort(key=key)
    else:
        proto.cases.sort(key=key)


def default_models(proto: Prototype) -> list[str]:
    """The model targets preselected as columns: the bundled local model(s), else the first target."""
    local = [m.id for m in proto.models if m.provider == LOCAL_PROVIDER]
    if local:
        return local
    return [proto.models[0].id] if proto.models else []
