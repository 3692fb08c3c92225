"""Edits to a prototype's lists (profiles, model targets, cases) that keep references consistent.

Pure functions on the pydantic prototype; the navigator calls them and then tells the
Document (`structure_edited`). Ids never change after creation because runs and votes point
at them: "rename" edits the display name.
"""

from __future__ import annotations

from typing import Literal

from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn

Kind = Literal["profiles", "models", "cases"]
KINDS: tuple[Kind, ...] = ("profiles", "models", "cases")
LOCAL_PROVIDER = "local"
LOCAL_MODEL = "smollm2-135m-instruct"


def items(proto: Prototype, kind: Kind) -> list[Profile] | list[ModelTarget] | list[Case]:
    return getattr(proto, kind)  # type: ignore[no-any-return]


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
    items(proto, kind).append(item)  # type: ignore[arg-type]
    return item


def duplicate(proto: Prototype, kind: Kind, item_id: str) -> Profile | ModelTarget | Case:
    """Insert a copy right after the original, with a new id and "(copy)" in its name."""
    seq = items(proto, kind)
    index = next(i for i, it in enumerate(seq) if it.id == item_id)
    original = seq[index]
    copy = original.model_copy(deep=True)
    copy.id = _unique_id(proto, kind, f"{original.id}-copy")
    rename(copy, f"{label(original)} (copy)")
    seq.insert(index + 1, copy)  # type: ignore[arg-type]
    return copy


def runs_of(proto: Prototype, kind: Kind, item_id: str) -> list[str]:
    field = {"profiles": "profile", "models": "model", "cases": "case"}[kind]
    return [r.id for r in proto.runs if getattr(r, field) == item_id]


def delete(proto: Prototype, kind: Kind, item_id: str) -> int:
    """Remove the item, its runs and the votes on those runs. Returns how many runs went."""
    seq = items(proto, kind)
    seq[:] = [it for it in seq if it.id != item_id]  # type: ignore[index]
    gone = set(runs_of(proto, kind, item_id))
    if gone:
        proto.runs = [r for r in proto.runs if r.id not in gone]
        proto.preferences = [p for p in proto.preferences if p.a not in gone and p.b not in gone]
        for run in proto.runs:  # a continuation of a deleted run becomes a fresh thread
            if run.parent in gone:
                run.parent = None
    return len(gone)


def reorder(proto: Prototype, kind: Kind, ids: list[str]) -> None:
    """Put the items in the order of `ids` (ids not listed keep their relative order at the end)."""
    seq = items(proto, kind)
    rank = {item_id: n for n, item_id in enumerate(ids)}
    seq.sort(key=lambda it: rank.get(it.id, len(rank)))  # type: ignore[attr-defined]


def default_models(proto: Prototype) -> list[str]:
    """The model targets preselected as columns: the bundled local model(s), else the first target."""
    local = [m.id for m in proto.models if m.provider == LOCAL_PROVIDER]
    if local:
        return local
    return [proto.models[0].id] if proto.models else []
