"""Edits to a prototype's lists (profiles, model targets, cases) that keep references consistent.

Pure functions on the pydantic prototype (core, so every front end shares the unique-id and
delete-cascade rules); the navigator calls them and then tells the Document
(`structure_edited`). Ids never change after creation because runs and votes point at them:
"rename" edits the display name, and every view shows the new name at once because they all
look names up by id when they draw.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn

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
        first = next((t.content for t in item.turns if t.role == "user"), "")
        first = " ".join(first.split())
        return f"{item.id}: {first[:60]}" if first else item.id
    return item.label


def display_name(item: Profile | ModelTarget | Case) -> str:
    return item.description if isinstance(item, Case) else item.name


def rename(item: Profile | ModelTarget | Case, name: str) -> None:
    if isinstance(item, Case):
        item.description = name
    else:
        item.name = name


def _unique_id(proto: Prototype, kind: Kind, base: str) -> str:
    """`base`, or `base-2`, `base-3`, ...: the first id not taken in that list."""
    taken = {i.id for i in items(proto, kind)}
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
            id=_unique_id(proto, kind, "profile"),
            name="New profile",
            system_prompt="You are a helpful assistant.",
        )
    elif kind == "models":
        item = ModelTarget(
            id=_unique_id(proto, kind, "model"),
            provider=LOCAL_PROVIDER,
            model=LOCAL_MODEL,
            name="New model target",
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
    copy.id = _unique_id(proto, kind, f"{original.id}-copy")
    rename(copy, f"{label(original)} (copy)")
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
    """
    if kind == "profiles":
        proto.profiles = [it for it in proto.profiles if it.id != item_id]
        _drop_from_scopes(proto, item_id)
    elif kind == "models":
        proto.models = [it for it in proto.models if it.id != item_id]
    else:
        proto.cases = [it for it in proto.cases if it.id != item_id]
    gone = set(runs_of(proto, kind, item_id))
    if gone:
        proto.runs = [r for r in proto.runs if r.id not in gone]
        proto.preferences = [p for p in proto.preferences if p.a not in gone and p.b not in gone]
        for run in proto.runs:  # a continuation of a deleted run becomes a fresh thread
            if run.parent in gone:
                run.parent = None
        for eval_run in proto.evals:
            for result in eval_run.results:
                if result.run in gone:
                    result.run = None
    return len(gone)


def _drop_from_scopes(proto: Prototype, profile_id: str) -> None:
    lists = [proto.default_assert, *(case.assert_ for case in proto.cases)]
    for assertions in lists:
        kept = []
        for assertion in assertions:
            if profile_id in assertion.profiles:
                assertion.profiles = [p for p in assertion.profiles if p != profile_id]
                if not assertion.profiles:
                    continue
            kept.append(assertion)
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
