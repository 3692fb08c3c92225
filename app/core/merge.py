"""Merge two or three copies of a prototype: what `protostudio merge` and the git merge driver do.

Two kinds of content, two rules:
- **Records** (`runs`, `preferences`, `evals`, `batches`, and each run's per-rater `ratings`)
  are unioned by id and never conflict: a team's work is never lost. The `prompts` table (message
  lists named by a hash of their content) is unioned by key: the same key is the same content.
  When both sides changed the same record, the later `updated` timestamp wins (a deterministic
  choice otherwise), so the result does not depend on which side is "ours".
- **Definitions** (everything else: profiles, rules, model targets, cases, assertions, top-level
  fields, and any future list of items with an `id`) merge field by field. The same field changed
  differently on both sides is a `Conflict`, reported with its path such as
  `profiles[playful].system_prompt` and the `line:col` of each side.

The merged document is returned as canonical text, exactly what load-then-save produces, so merging
is idempotent and a merged file diffs cleanly. With conflicts, `conflict_text` writes both versions
between git-style markers, which the loader refuses until someone resolves them.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from app.core.document import parse_prototype, to_data
from app.core.errors import PrototypeError
from app.core.prototype import TERMINAL_BATCH_STATUSES, Prototype
from app.core.ratings import rater_label
from app.core.yamlio import Located, Mark, dump, load_located


class _Missing:
    """A value one side does not have (never set, or deleted)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

RECORD_SECTIONS = frozenset({"runs", "preferences", "evals", "batches", "prompts"})
"""Top-level sections that are unioned (lists by id, `prompts` by key) and never conflict."""

MARK_OURS, MARK_SPLIT, MARK_THEIRS = "<<<<<<<", "=======", ">>>>>>>"
"""Git's conflict markers; `document.parse_prototype` refuses a file that still has them."""

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Side:
    """One input copy: its prototype, where each value sits in its text, and a name for messages."""

    proto: Prototype
    located: Located
    name: str

    @classmethod
    def parse(cls, text: str, name: str) -> Side:
        """Load a copy like the app does. Raises PrototypeError with `file:line:col` problems."""
        proto = parse_prototype(text, name)
        return cls(proto, load_located(text.removeprefix("\ufeff")), name)

    def mark(self, path: Path_) -> Mark:
        return self.located.mark_for(path)


@dataclass(frozen=True)
class Conflict:
    """The same field changed differently on both sides."""

    path: str
    ours: Any
    theirs: Any
    ours_path: Path_
    theirs_path: Path_


@dataclass
class MergeResult:
    """The merged prototype and its canonical text, or the conflicts that stopped it."""

    conflicts: list[Conflict]
    proto: Prototype | None = None
    text: str = ""
    ours_text: str = field(default="", repr=False)
    theirs_text: str = field(default="", repr=False)

    @property
    def clean(self) -> bool:
        return not self.conflicts


# -- the merge of plain data ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    """Where a value is: its display path, and its index path in each side's file."""

    shown: str
    ours: Path_
    theirs: Path_

    def key(self, name: str) -> _Where:
        shown = f"{self.shown}.{name}" if self.shown else name
        return _Where(shown, (*self.ours, name), (*self.theirs, name))

    def item(self, label: str, ours_index: int | None, theirs_index: int | None) -> _Where:
        return _Where(
            f"{self.shown}[{label}]",
            (*self.ours, ours_index) if ours_index is not None else self.ours,
            (*self.theirs, theirs_index) if theirs_index is not None else self.theirs,
        )


class _Merger:
    def __init__(self, *, take: str | None = None) -> None:
        self.conflicts: list[Conflict] = []
        self.take = take
        """None: record conflicts. "ours"/"theirs": resolve every conflict that way (for the marker text)."""

    def value(self, base: Any, ours: Any, theirs: Any, where: _Where, records: bool) -> Any:
        if ours == theirs:
            return ours
        if ours == base:
            return theirs
        if theirs == base:
            return ours
        if records and _stamped(ours, theirs):  # a rating changes as a whole: the later one wins
            return _later(ours, theirs)
        if records and len(where.ours) == 2 and where.ours[0] == "batches":
            done = _finished_batch(ours, theirs)
            if done is not None:  # one copy already collected it: never resume (and pay for) it twice
                return done
        if isinstance(ours, dict) and isinstance(theirs, dict):
            return self.mapping(base if isinstance(base, dict) else MISSING, ours, theirs, where, records)
        if isinstance(ours, list) and isinstance(theirs, list):
            keyed = _keyed_by(ours, theirs, base, where)
            if keyed is not None:
                is_record = records or keyed == "rater"
                return self.keyed_list(base, ours, theirs, where, records=is_record, key=keyed)
        if records:
            return _later(ours, theirs)
        return self.conflict(ours, theirs, where)

    def conflict(self, ours: Any, theirs: Any, where: _Where) -> Any:
        if self.take == "ours":
            return ours
        if self.take == "theirs":
            return theirs
        self.conflicts.append(Conflict(where.shown or "document", ours, theirs, where.ours, where.theirs))
        return ours

    def mapping(
        self, base: Any, ours: dict[str, Any], theirs: dict[str, Any], where: _Where, records: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in list(ours) + [k for k in theirs if k not in ours]:
            b = base.get(name, MISSING) if isinstance(base, dict) else MISSING
            o, t = ours.get(name, MISSING), theirs.get(name, MISSING)
            container = next((type(v) for v in (o, t, b) if isinstance(v, dict | list)), None)
            if container is not None:  # an omitted list or mapping is an empty one (defaults are not written)
                o, t, b = (container() if v is MISSING else v for v in (o, t, b))
            is_record = records or (not where.shown and name in RECORD_SECTIONS)
            child = self.value(b, o, t, where.key(name), is_record)
            if child is not MISSING:
                out[name] = child
        return out

    def keyed_list(
        self, base: Any, ours: list[Any], theirs: list[Any], where: _Where, *, records: bool, key: str
    ) -> list[Any]:
        def index(items: Any) -> dict[str, tuple[int, Any]]:
            if not isinstance(items, list):
                return {}
            return {_item_key(item, key): (i, item) for i, item in enumerate(items)}

        b, o, t = index(base), index(ours), index(theirs)
        out: list[Any] = []
        for label in list(o) + [k for k in t if k not in o]:
            o_index, o_item = o.get(label, (None, MISSING))
            t_index, t_item = t.get(label, (None, MISSING))
            merged = self.value(
                b.get(label, (None, MISSING))[1], o_item, t_item, where.item(label, o_index, t_index), records
            )
            if merged is not MISSING:
                out.append(merged)
        return out


def _item_key(item: Any, key: str) -> str:
    value = item.get(key, "") if isinstance(item, dict) else ""
    return rater_label(value) if key == "rater" else str(value)


def _keyed_by(ours: list[Any], theirs: list[Any], base: Any, where: _Where) -> str | None:
    """`rater` for a run's ratings, `id` for any list whose items all have one, `name` for the tools,
    else None (atomic)."""
    items = [*ours, *theirs, *(base if isinstance(base, list) else [])]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    if where.ours[-1:] == ("ratings",) and where.ours[:1] == ("runs",):
        return "rater"
    if all("id" in item for item in items):
        return "id"
    if where.ours == ("tools",) and all("name" in item for item in items):
        return "name"  # the prototype's tools, merged tool by tool
    return None


def _finished_batch(ours: Any, theirs: Any) -> Any:
    """The side whose copy of a batch has ended (`collected`/`failed`) when only one has, else None."""
    ended = [isinstance(v, dict) and v.get("status") in TERMINAL_BATCH_STATUSES for v in (ours, theirs)]
    if ended == [True, False]:
        return ours
    if ended == [False, True]:
        return theirs
    return None


def _stamped(*values: Any) -> bool:
    return any(isinstance(v, dict) and "updated" in v for v in values)


def _later(ours: Any, theirs: Any) -> Any:
    """Both sides changed a record: the later `updated` wins, else a fixed choice that ignores sides."""
    if ours is MISSING or theirs is MISSING:  # deleted on one side, changed on the other: keep it
        return theirs if ours is MISSING else ours
    stamps = [v.get("updated") if isinstance(v, dict) else None for v in (ours, theirs)]
    if all(isinstance(s, str) for s in stamps) and stamps[0] != stamps[1]:
        return ours if stamps[0] > stamps[1] else theirs  # type: ignore[operator]
    if [isinstance(s, str) for s in stamps].count(True) == 1:  # edited since format 3 beats a legacy one
        return ours if isinstance(stamps[0], str) else theirs
    return max(ours, theirs, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))


def _restore_references(merged: dict[str, Any], sides: list[dict[str, Any]]) -> None:
    """A kept vote or continued run must not point at a run one side deleted: bring that run back."""
    by_id = {r["id"]: r for data in sides for r in data.get("runs", []) if isinstance(r, dict) and "id" in r}
    runs = merged.setdefault("runs", [])
    while True:
        have = {r.get("id") for r in runs if isinstance(r, dict)}
        wanted = {p.get(s) for p in merged.get("preferences", []) if isinstance(p, dict) for s in ("a", "b")}
        wanted |= {r.get("parent") for r in runs if isinstance(r, dict) and r.get("parent")}
        missing = sorted(w for w in wanted - have if isinstance(w, str) and w in by_id)
        if not missing:
            break
        runs.extend(by_id[w] for w in missing)
    if not runs:
        merged.pop("runs")


def _union_prompts(merged: dict[str, Any], sides: list[dict[str, Any]]) -> None:
    """Every run kept from either side keeps its `prompt:` entry, even one the other side dropped.

    Keys are content hashes, so a union never conflicts; entries no run uses any more are dropped
    when the merged document is saved (`factor_prompts` rebuilds the table)."""
    table: dict[str, Any] = {}
    for data in sides:
        prompts = data.get("prompts")
        if isinstance(prompts, dict):
            for key, messages in prompts.items():
                table.setdefault(key, messages)
    used = {r.get("prompt") for r in merged.get("runs", []) if isinstance(r, dict)}
    kept = {key: messages for key, messages in table.items() if key in used}
    if kept:
        merged["prompts"] = kept
    else:
        merged.pop("prompts", None)


def merge_data(
    base: dict[str, Any] | None, ours: dict[str, Any], theirs: dict[str, Any], *, take: str | None = None
) -> tuple[dict[str, Any], list[Conflict]]:
    """Merge canonical plain data (`to_data`); base None is a two-way merge. Pure: inputs are not changed."""
    merger = _Merger(take=take)
    where = _Where("", (), ())
    merged = merger.value(MISSING if base is None else base, ours, theirs, where, records=False)
    assert isinstance(merged, dict)
    merged = json.loads(json.dumps(merged))  # a private copy, whatever the sides share
    _restore_references(merged, [ours, theirs])
    _union_prompts(merged, [ours, theirs])
    return merged, merger.conflicts


# -- documents ---------------------------------------------------------------------------------------


def merge(base: Side | None, ours: Side, theirs: Side) -> MergeResult:
    """Merge loaded copies. Raises PrototypeError if the merged document itself is invalid."""
    data = [to_data(s.proto) if s is not None else None for s in (base, ours, theirs)]
    ours_data, theirs_data = data[1], data[2]
    assert ours_data is not None and theirs_data is not None
    merged, conflicts = merge_data(data[0], ours_data, theirs_data)
    if conflicts:
        return MergeResult(
            conflicts,
            ours_text=_canonical(merge_data(data[0], ours_data, theirs_data, take="ours")[0], ours.name)[1],
            theirs_text=_canonical(
                merge_data(data[0], ours_data, theirs_data, take="theirs")[0], theirs.name
            )[1],
        )
    proto, text = _canonical(merged, ours.name)
    return MergeResult([], proto, text)


def _canonical(data: dict[str, Any], name: str) -> tuple[Prototype, str]:
    """Load-then-save of the merged data, so the output is canonical and fully checked."""
    proto = parse_prototype(dump(data), f"{name} (merged)")
    return proto, dump(to_data(proto))


def conflict_text(result: MergeResult, ours_label: str, theirs_label: str) -> str:
    """Both versions, differing lines between git-style markers. The loader refuses it until resolved."""
    a, b = result.ours_text.splitlines(keepends=True), result.theirs_text.splitlines(keepends=True)
    out: list[str] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(a[a1:a2])
            continue
        out.append(f"{MARK_OURS} {ours_label}\n")
        out.extend(a[a1:a2])
        out.append(f"{MARK_SPLIT}\n")
        out.extend(b[b1:b2])
        out.append(f"{MARK_THEIRS} {theirs_label}\n")
    return "".join(out)


def describe(
    conflict: Conflict, ours: Side, theirs: Side, shorten: Callable[[Any], str] | None = None
) -> str:
    """`ours.yaml:12:20: conflict at profiles[playful].system_prompt` and both values, for people."""
    show = shorten or _short
    at_ours, at_theirs = ours.mark(conflict.ours_path), theirs.mark(conflict.theirs_path)
    return (
        f"{ours.name}:{at_ours.line}:{at_ours.col}: conflict at {conflict.path}: "
        "changed differently on both sides\n"
        f"    ours   ({ours.name}:{at_ours.line}:{at_ours.col}): {show(conflict.ours)}\n"
        f"    theirs ({theirs.name}:{at_theirs.line}:{at_theirs.col}): {show(conflict.theirs)}"
    )


def _short(value: Any, limit: int = 160) -> str:
    if value is MISSING:
        return "(not set or deleted)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "MISSING",
    "Conflict",
    "MergeResult",
    "PrototypeError",
    "Side",
    "conflict_text",
    "describe",
    "merge",
    "merge_data",
]
