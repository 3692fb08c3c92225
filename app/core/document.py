"""Load and save prototype files: safe YAML, migrations, precise errors, atomic canonical saves."""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import gc
import os
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.atomic import remove_stale_temps, write_atomic
from app.core.errors import Problem, PrototypeError
from app.core.migrations import v2_to_v3
from app.core.prompts import factor_prompts, inline_prompts, migrate_v1_to_v2, resolve_prompts
from app.core.prototype import FORMAT_VERSION, Profile, Prototype, Run, Turn
from app.core.regular_file import NotReadable, read_regular_bytes
from app.core.tools import tool_problems
from app.core.yamlcanon import NotCanonical, TooManyItems, read_canonical
from app.core.yamlio import Located, Mark, YamlSyntaxError, dump, load_located

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Files larger than this are refused before parsing: a prototype is text, not a data dump."""

Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {1: migrate_v1_to_v2, 2: v2_to_v3}
"""`MIGRATIONS[n]` turns a version-n document into version n+1. Add one per format bump.
1 -> 2: each run's inline `messages` move to the shared `prompts:` table (`app/core/prompts.py`).
2 -> 3: a run's single `rating:` becomes `ratings:`, one per rater (`app/core/migrations.py`)."""

_ID_LISTS = ("profiles", "models", "cases", "runs", "preferences", "evals")


def load_prototype(path: str | os.PathLike[str]) -> Prototype:
    """Read a prototype file. Raises PrototypeError (never anything else) on bad input."""
    name = str(path)
    remove_stale_temps(path)  # left by a process killed mid-save; never a save in progress
    try:
        raw = read_regular_bytes(path, MAX_FILE_BYTES)  # never blocks on a FIFO, never reads past the limit
    except NotReadable as exc:
        if exc.reason.startswith("is larger"):
            message = f"file is too large: prototype files are limited to {MAX_FILE_BYTES // 2**20} MiB"
        else:
            message = f"cannot read file: it {exc.reason}"
        raise PrototypeError.single(name, 1, 1, message) from None
    except OSError as exc:
        raise PrototypeError.single(name, 1, 1, f"cannot read file: {exc.strerror or exc}") from None
    except ValueError:  # `os.open` refuses a path with a NUL byte in it (no OS call could name it)
        message = "cannot read file: the path contains a NUL character"
        raise PrototypeError.single(name, 1, 1, message) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise PrototypeError.single(name, line, col, "file is not UTF-8 text") from None
    proto = parse_prototype(text, name)
    proto.base_dir = os.path.dirname(os.path.abspath(name))  # turn images are relative to the file
    return proto


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Pause Python's cycle collector while a document is built or written.

    Building 10,000 runs makes hundreds of thousands of objects, and each full collection walks all
    of them again: that was a third of opening such a file (1.7 s -> 1.1 s CPU). The data has no
    cycles, so reference counting frees everything as usual; only the first caller re-enables.

    Re-enabling alone would leave every object built meanwhile in the youngest generation, and the
    next collection (the first allocation after) would walk them all: 0.1 s after 10,000 runs, seconds
    after 70,000. `freeze` + `unfreeze` moves them to the oldest generation without walking them, where
    full collections still see them; skipped when someone else has frozen objects on purpose."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def parse_prototype(text: str, filename: str = "<text>") -> Prototype:
    """Parse and validate prototype YAML text. Raises PrototypeError with `file:line:col` problems."""
    with _without_cyclic_gc():
        return _parse_prototype(text, filename)


def _parse_prototype(text: str, filename: str) -> Prototype:
    # UTF-8 takes at most 4 bytes a character: most texts are under the limit without encoding them
    if len(text) * 4 > MAX_FILE_BYTES and len(text.encode("utf-8", errors="surrogatepass")) > MAX_FILE_BYTES:
        raise PrototypeError.single(filename, 1, 1, "text is too large for a prototype")
    if text.startswith("\ufeff"):
        text = text[1:]
    _refuse_conflict_markers(text, filename)
    try:
        fast = _parse_canonical(text)
    except TooManyItems as exc:
        raise PrototypeError.single(filename, exc.mark.line, exc.mark.col, exc.message) from None
    if fast is not None:
        return fast
    try:
        located = load_located(text)
    except YamlSyntaxError as exc:
        raise PrototypeError.single(filename, exc.mark.line, exc.mark.col, exc.message) from None
    except RecursionError:
        raise PrototypeError.single(filename, 1, 1, "YAML is nested too deeply") from None
    data = located.data
    if data is None:
        raise PrototypeError.single(filename, 1, 1, "file is empty; a prototype needs at least `name:`")
    if not isinstance(data, dict):
        mark = located.mark_for(())
        raise PrototypeError.single(
            filename, mark.line, mark.col,
            "a prototype must be a mapping of keys such as `name:` and `profiles:`",
        )
    data = _migrate(data, located, filename)
    try:
        proto = Prototype.model_validate(data)
    except ValidationError as exc:
        raise PrototypeError(_problems_from_validation(exc, located, filename, data)) from None
    except RecursionError:
        raise PrototypeError.single(filename, 1, 1, "YAML is nested too deeply") from None
    _check_prompts(proto, located, filename)
    _check_references(proto, located, filename)
    return proto


def _parse_canonical(text: str) -> Prototype | None:
    """The prototype read by the fast canonical reader, or None when anything at all needs the slow path.

    Only a file that reads, migrates and validates without a single problem is accepted here; any
    problem is found again by the positioned path, so every message keeps its `file:line:col`.
    The one exception is TooManyItems, which carries its own position and is an error either way:
    re-reading a file with millions of items slowly is what the limits are there to prevent.
    """
    try:
        data = read_canonical(text)
    except NotCanonical:
        return None
    if not isinstance(data, dict):
        return None
    located = Located(data, {}, {})
    try:
        data = _migrate(data, located, "<fast>")
        inline_prompts(data)  # no positions are needed here, so messages can be resolved before validation
        proto = Prototype.model_validate(data)
        _check_prompts(proto, located, "<fast>")
        _check_references(proto, located, "<fast>")
    except Exception:  # PrototypeError, ValidationError, RecursionError: the slow path gives the position
        return None
    return proto


def _check_prompts(proto: Prototype, located: Located, filename: str) -> None:
    """Resolve `prompt:` references into each run's messages, or say which run points nowhere."""
    problems = []
    for index, message in resolve_prompts(proto):
        mark = located.mark_for(("runs", index, "prompt"))
        problems.append(Problem(filename, mark.line, mark.col, message))
    if problems:
        raise PrototypeError(problems)


def _refuse_conflict_markers(text: str, filename: str) -> None:
    """`protostudio merge -o` writes both sides of a conflict between git markers: say so, not "bad YAML"."""
    if "<<<<<<< " not in text:
        return
    problems = [
        Problem(filename, number, 1, "unresolved merge conflict: keep the version you want between "
                "`<<<<<<<` and `>>>>>>>`, delete the other and the three marker lines")
        for number, line in enumerate(text.splitlines(), start=1)
        if line.startswith("<<<<<<< ")
    ]
    if problems:
        raise PrototypeError(problems)


def _migrate(data: dict[str, Any], located: Located, filename: str) -> dict[str, Any]:
    version = data.get("protostudio", FORMAT_VERSION)
    mark = located.mark_for(("protostudio",))
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PrototypeError.single(
            filename, mark.line, mark.col, f"`protostudio:` must be a format version number such as "
            f"{FORMAT_VERSION}, not {version!r}"
        )
    if version > FORMAT_VERSION:
        raise PrototypeError.single(
            filename, mark.line, mark.col, f"this file uses format version {version}, but this app reads up "
            f"to version {FORMAT_VERSION}; update Protostudio to open it"
        )
    while version < FORMAT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise PrototypeError.single(
                filename, mark.line, mark.col, f"no migration from format version {version}"
            )
        try:
            upgraded = step(copy.deepcopy(data))
        except Exception as exc:  # a migration bug must not escape as anything but PrototypeError
            raise PrototypeError.single(
                filename, mark.line, mark.col, f"could not upgrade this file from format version "
                f"{version}: {type(exc).__name__}: {exc}"
            ) from None
        if not isinstance(upgraded, dict):
            raise PrototypeError.single(
                filename, mark.line, mark.col, f"upgrading from format version {version} gave no document"
            )
        version += 1
        upgraded["protostudio"] = version
        data = upgraded
    return data


def _problems_from_validation(
    exc: ValidationError, located: Located, filename: str, data: Any
) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path, model = _path_and_model(loc, data)
        kind = err["type"]
        where = _dotted(path)
        if kind == "extra_forbidden" and path:
            key = str(path[-1])
            mark = located.mark_for(path, key=True)
            fields = [f.alias or n for n, f in model.model_fields.items()] if model else []
            hint = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
            message = f"unknown key {key!r} in {_dotted(path[:-1]) or 'the document'}"
            message += f"; did you mean {hint[0]!r}?" if hint else f"; allowed keys: {', '.join(fields)}"
        elif kind == "missing" and path:
            mark = located.mark_for(path[:-1])
            message = f"missing required key {str(path[-1])!r} in {_dotted(path[:-1]) or 'the document'}"
        else:
            mark = located.mark_for(path)
            message = f"{where or 'document'}: {_lower_first(err['msg'])}"
            if kind != "value_error":  # our validators explain themselves, and may be refusing a secret
                message += f" (got {_describe(err.get('input'))})"
            if kind == "string_type" and isinstance(err.get("input"), dict):
                message += "; text that contains ': ' must be quoted or written as a `|` block"
        problems.append(Problem(filename, mark.line, mark.col, message))
    return problems


def _path_and_model(
    loc: tuple[Any, ...], data: Any
) -> tuple[tuple[str | int, ...], type[BaseModel] | None]:
    """Map a pydantic loc onto the data, dropping union/function tags; find the model owning the last key.

    A step counts when it exists in the data; pydantic's tags (`function-after[...]`, `str`) do not.
    The last step is kept even when absent: that is the missing key.
    """
    path: list[str | int] = []
    model: type[BaseModel] | None = Prototype
    owner: type[BaseModel] | None = Prototype
    node = data
    for position, part in enumerate(loc):
        if _has_step(node, part):
            node = node[part]
        elif position == len(loc) - 1 and not (isinstance(part, str) and "[" in part):
            node = None
        else:
            continue
        path.append(part)
        owner = model
        model = _child_model(model, part) if model is not None else None
    return tuple(path), owner


def _has_step(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return False


def _child_model(model: type[BaseModel], part: str | int) -> type[BaseModel] | None:
    if isinstance(part, int):
        return model
    for name, field in model.model_fields.items():
        if part in (name, field.alias):
            annotation = field.annotation
            for candidate in (annotation, *getattr(annotation, "__args__", ())):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    return candidate
    return None


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lower_first(msg: str) -> str:
    return msg[0].lower() + msg[1:] if msg else msg


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_references(proto: Prototype, located: Located, filename: str) -> None:
    """Duplicate ids, and runs or votes that point at things the file does not have."""
    problems: list[Problem] = []

    def add(path: tuple[str | int, ...], message: str) -> None:
        mark = located.mark_for(path)
        problems.append(Problem(filename, mark.line, mark.col, message))

    for list_name in _ID_LISTS:
        seen: dict[str, int] = {}
        for index, item in enumerate(getattr(proto, list_name)):
            if item.id in seen:
                add((list_name, index, "id"), f"duplicate id {item.id!r} in {list_name} "
                    f"(first used at {list_name}[{seen[item.id]}])")
            else:
                seen[item.id] = index
    for p_index, profile in enumerate(proto.profiles):
        rule_ids: set[str] = set()
        for r_index, rule in enumerate(profile.behavior_spec):
            if rule.id in rule_ids:
                add(("profiles", p_index, "behavior_spec", r_index, "id"),
                    f"duplicate rule id {rule.id!r} in the behavior spec of profile {profile.id!r}")
            rule_ids.add(rule.id)
    run_ids = {r.id for r in proto.runs}
    for index, pref in enumerate(proto.preferences):
        for side in ("a", "b"):
            if getattr(pref, side) not in run_ids:
                add(("preferences", index, side), f"preference points at unknown run {getattr(pref, side)!r}")
    for index, run in enumerate(proto.runs):
        if run.parent is not None and run.parent not in run_ids:
            add(("runs", index, "parent"), f"run continues unknown run {run.parent!r}")
        seen_raters: set[str] = set()
        for r_index, rating in enumerate(run.ratings):
            who = rating.rater or "unknown"  # the same rule as app.core.ratings.rater_label
            if who in seen_raters:
                add(("runs", index, "ratings", r_index),
                    f"run {run.id!r} has two ratings by {who!r}; keep one rating per rater")
            seen_raters.add(who)
    for path, message in tool_problems(proto):
        add(path, message)
    if problems:
        raise PrototypeError(problems)


# -- saving -----------------------------------------------------------------------------------------


ALWAYS_WRITTEN: frozenset[tuple[type[BaseModel], str]] = frozenset(
    {(Prototype, "protostudio"), (Profile, "form_factor"), (Turn, "role")}
)
"""Fields written even when they hold their default, because a reader needs them to make sense
of the file (whose turn it is, which form factor a profile targets, which format version)."""


def to_data(proto: Prototype) -> dict[str, Any]:
    """Plain data for YAML, in field order: defaults left out so files stay short, except ALWAYS_WRITTEN."""
    data = _plain(proto)
    assert isinstance(data, dict)
    factor_prompts(proto, data)
    return data


@functools.cache
def _default_of(model: type[BaseModel], name: str) -> Any:
    """A field's default, computed once: pydantic's lookup is slow and runs per field per item."""
    return model.model_fields[name].get_default(call_default_factory=True)


@functools.cache
def _write_plan(model: type[BaseModel]) -> tuple[tuple[str, str, bool, Any], ...]:
    """Per field: attribute, key written, whether a default value is left out, and that default.

    Worked out once per model class: asking pydantic per field per item made saving 10,000 runs slow."""
    plan = []
    for name, field in model.model_fields.items():
        omit_default = (model, name) not in ALWAYS_WRITTEN and not field.is_required()
        default = _default_of(model, name) if omit_default else None
        plan.append((name, field.alias or name, omit_default, default))
    return tuple(plan)


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


_DUMPED_BY_PYDANTIC: frozenset[type[BaseModel]] = frozenset({Run})
"""Models whose whole subtree has no ALWAYS_WRITTEN field and no tuple, so pydantic's own
`model_dump(exclude_defaults=True)` gives exactly what `_plain` would, at half the CPU: a file's
runs are most of what a save writes (`tests/core/test_plain_fast_path.py` holds the two equal)."""


_RUNS: TypeAdapter[list[Run]] = TypeAdapter(list[Run])


def _plain(value: Any) -> Any:
    if value.__class__ in _SCALAR_TYPES:
        return value
    if value.__class__ in _DUMPED_BY_PYDANTIC:
        return value.model_dump(by_alias=True, exclude_defaults=True)
    if isinstance(value, BaseModel):
        return _plain_model(value)
    if isinstance(value, list | tuple):
        if isinstance(value, list) and value and all(item.__class__ is Run for item in value):
            return _RUNS.dump_python(value, by_alias=True, exclude_defaults=True)  # one call, not one each
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def _plain_model(value: BaseModel) -> dict[str, Any]:
    """A model's fields in order, defaults left out except ALWAYS_WRITTEN."""
    out: dict[str, Any] = {}
    fields = value.__dict__  # pydantic keeps field values here; getattr per field was a third of to_data
    for name, key, omit_default, default in _write_plan(type(value)):
        item = fields[name]
        kind = item.__class__
        if kind in _SCALAR_TYPES:
            if not (omit_default and kind is default.__class__ and item == default):
                out[key] = item
        elif not (omit_default and kind is default.__class__ and _same_as_default(item, default)):
            out[key] = _plain(item)
    return out


def _same_as_default(item: Any, default: Any) -> bool:
    """`item == default`, comparing models by their fields: pydantic's `__eq__` is slow, and a
    nested model (`params`, `usage`) is compared once per run on every save."""
    if isinstance(item, BaseModel):
        return bool(item.__dict__ == default.__dict__)
    return bool(item == default)


def dumps_prototype(proto: Prototype) -> str:
    """The canonical YAML text of a prototype. TooManyToSave (an OSError) if it could not be opened again."""
    with _without_cyclic_gc():
        return dumps_data(to_data(proto))


def dumps_data(data: dict[str, Any]) -> str:
    """The canonical YAML text of `to_data`'s plain data, refusing (TooManyToSave, an OSError) data
    that crosses an item limit: the app must never write a file it then refuses to open."""
    return dump(data, check_limits=True)


def save_prototype(proto: Prototype, path: str | os.PathLike[str]) -> None:
    """Write a prototype atomically in canonical form; on TooManyToSave nothing is written."""
    write_atomic(path, dumps_prototype(proto).encode("utf-8"))
    proto.base_dir = os.path.dirname(os.path.abspath(path))


__all__ = [
    "MAX_FILE_BYTES",
    "MIGRATIONS",
    "Mark",
    "PrototypeError",
    "dumps_data",
    "dumps_prototype",
    "load_prototype",
    "parse_prototype",
    "save_prototype",
    "to_data",
]
