"""Safe YAML reading that remembers where every value came from, and canonical YAML writing.

Reading composes YAML nodes with a safe parser (libyaml's when available, for speed) and
builds plain Python data ourselves instead of letting a constructor do it, so we can:
(a) keep the `line:col` of every key and value for error messages, (b) reject duplicate keys,
which PyYAML silently overwrites, (c) keep timestamps and mapping keys as the text the user
wrote, (d) refuse any tag but the plain YAML types, never constructing Python objects, and
(e) cap alias expansion, so a "billion laughs" file is refused in milliseconds.

Writing is canonical: insertion key order, block literals for multi-line text, unicode as
is, no tags, no aliases, no line folding. `dump(load(text)) == text` for any text written here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from app.core import limits
from app.core.yamlfast import fast_dump

Path_ = tuple[str | int, ...]
"""A location inside a document: mapping keys and sequence indexes."""

MAX_EXPANSION = 10
"""Aliases may make the built data at most this many times larger than the node graph (plus a margin)."""

_EXPANSION_MARGIN = 10_000
MAX_DEPTH = 100
"""Lists and mappings may nest this deep. A prototype needs about 10 levels (a JSON schema in
`response_format` a few dozen); deeper is a mistake or an attack, reported where it crosses the limit."""


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a source file."""

    line: int
    col: int


class YamlSyntaxError(ValueError):
    """The text is not YAML we accept; carries the position of the problem."""

    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def _without_timestamps(loader: type[yaml.SafeLoader] | type[Any]) -> None:
    """Drop the timestamp resolver: `created: 2026-11-22T06:00:00Z` stays the string the user wrote."""
    loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


class _NestedTooDeep(Exception):
    """Raised inside the composer when nodes nest past `_COMPOSE_DEPTH`."""


_COMPOSE_DEPTH = MAX_DEPTH + 2
"""The composer stops here; the builder refuses at MAX_DEPTH first when it gets that far, with
the exact node's position."""


class _DepthLimit:
    """Stops the composer at `_COMPOSE_DEPTH` levels of nesting.

    PyYAML's libyaml composer recurses in C once per level and calls no Python function that
    could overflow, so RecursionError never comes: with libyaml 0.2.5 (no nesting limit of its
    own; still what PyYAML 6.0.3's wheels carry) 50,000 `[` overflow the C stack and the process
    dies with a segfault. Both composers call `descend_resolver` before each node and
    `ascend_resolver` after it, so counting there bounds the recursion whatever the versions."""

    _depth = 0

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        depth = self._depth + 1
        if depth > _COMPOSE_DEPTH:
            raise _NestedTooDeep
        self._depth = depth
        if self.yaml_path_resolvers:  # type: ignore[attr-defined]  # never set here; kept for subclasses
            super().descend_resolver(current_node, current_index)  # type: ignore[misc]

    def ascend_resolver(self) -> None:
        self._depth -= 1
        if self.yaml_path_resolvers:  # type: ignore[attr-defined]
            super().ascend_resolver()  # type: ignore[misc]


class _PyLoader(_DepthLimit, yaml.SafeLoader):
    """Pure-Python safe parser; also lends its scalar constructors to the builder."""


_without_timestamps(_PyLoader)

_ParserClass: type[Any] = _PyLoader
if getattr(yaml, "__with_libyaml__", False):  # pragma: no branch - depends on the PyYAML wheel

    class _CLoader(_DepthLimit, yaml.CSafeLoader):
        """libyaml's parser (about ten times faster) with the same resolvers."""

    _without_timestamps(_CLoader)
    _ParserClass = _CLoader


@dataclass
class Located:
    """Parsed data plus the source position of each path (value marks and key marks).

    The tables hold PyYAML's raw marks (0-based), converted only when asked: a large file has
    hundreds of thousands of them and nearly all are never looked at.
    """

    data: Any
    marks: dict[Path_, Any]
    key_marks: dict[Path_, Any]

    def mark_for(self, path: Path_, *, key: bool = False) -> Mark:
        """The most precise known position for `path`, walking up to a parent when needed."""
        table = self.key_marks if key else self.marks
        probe = tuple(path)
        while probe:
            if probe in table:
                return _to_mark(table[probe])
            if probe in self.marks:
                return _to_mark(self.marks[probe])
            probe = probe[:-1]
        return _to_mark(self.marks.get((), Mark(1, 1)))


def _to_mark(raw: Any) -> Mark:
    return raw if isinstance(raw, Mark) else Mark(raw.line + 1, raw.column + 1)


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


_FRIENDLY = (
    ("mapping values are not allowed", "a `key: value` pair is not allowed here; if this is text that "
     "contains ': ', put the whole text in quotes or in a `|` block"),
    ("cannot start any token", "this character cannot start a value here (a tab used for indentation? "
     "YAML needs spaces; text starting with ` @ or % needs quotes)"),
    ("could not find expected ':'", "expected `key: value` here; check the indentation and the quotes"),
    ("found unexpected end of stream", "a quote opened here is never closed"),
    ("found undefined alias", "an alias (`*name`) refers to an anchor (`&name`) that does not exist"),
    ("expected a single document", "a prototype file holds one YAML document; remove the extra `---`"),
)
"""PyYAML/libyaml phrasings, matched by substring, and what they mean in plain words."""


_RUNAWAY_CONTEXTS = ("while scanning", "while parsing a flow")
"""Errors where the parser read on past the broken token: an unclosed quote, `[` or `{`, a key
without its colon. Their problem mark is where it gave up (often the end of the file); their
context mark is where the broken token starts, which is what the person needs to fix."""


def error_mark(exc: yaml.MarkedYAMLError) -> Any:
    """The mark to report: the broken token's start when the parser ran past it to a later line,
    else the problem itself (a bad escape or indicator is reported where it is)."""
    problem, context = exc.problem_mark, exc.context_mark
    runaway = (exc.context or "").startswith(_RUNAWAY_CONTEXTS)
    if runaway and context is not None and (problem is None or problem.line > context.line):
        return context
    return problem or context


def _friendly(problem: str, context: str | None) -> str:
    for phrase, plain in _FRIENDLY:
        if phrase in problem or (context and phrase in context):
            return plain
    return f"{problem} ({context})" if context else problem


PRESCAN_BYTES = 256 * 1024
"""Texts longer than this are scanned for item limits before nodes are built: composing a
7-million-item list would take a minute and gigabytes before the builder could count it."""


def load_located(text: str) -> Located:
    """Parse YAML text safely. Raises YamlSyntaxError with a position on any problem."""
    if len(text) > PRESCAN_BYTES:
        check_item_limits(text)
    try:
        root = yaml.compose(text, Loader=_ParserClass)
    except (_NestedTooDeep, RecursionError):  # nested too deep to compose: find where, without recursing
        raise _too_deep(depth_mark(text) or Mark(1, 1)) from None
    except yaml.MarkedYAMLError as exc:
        mark = error_mark(exc)
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        if _LIBYAML_TOO_DEEP in (exc.problem or ""):  # libyaml >= 0.2.6 stops at 1,000 levels itself
            raise _too_deep(depth_mark(text) or where) from None
        problem = _friendly((exc.problem or "invalid YAML").strip(), exc.context)
        if mark is not exc.problem_mark and exc.problem_mark is not None:
            problem += f" (the scanner gave up at {exc.problem_mark.line + 1}:{exc.problem_mark.column + 1})"
        if _char_at(text, where) == "\t":
            problem = "a tab character is used here; YAML indents with spaces only"
        raise YamlSyntaxError(f"YAML syntax error: {problem}", where) from None
    except yaml.YAMLError as exc:  # reader errors: control characters, bad encodings
        raise YamlSyntaxError(f"YAML error: {_plain_reader_error(exc)}", _reader_mark(text, exc)) from None
    except (UnicodeError, ValueError) as exc:  # e.g. lone surrogates handed in as text
        raise YamlSyntaxError(f"text cannot be read as YAML: {exc}", Mark(1, 1)) from None
    if root is None:
        return Located(None, {}, {})
    return _Builder(root, text=text, may_alias="&" in text).located()


def _too_deep(mark: Mark) -> YamlSyntaxError:
    return YamlSyntaxError(f"lists and mappings are nested more than {MAX_DEPTH} levels deep here", mark)


def check_item_limits(text: str) -> None:
    """YamlSyntaxError at the first item past its limit (`app.core.limits`), from parser events.

    Events are not kept, so memory stays flat, and the scan stops at the crossing. Syntax errors
    are left to the composer, which reports them the same way as for small files."""
    left = [limits.MAX_TOTAL_ITEMS]
    stack: list[list[Any]] = []  # per open collection: [holder key, limit, count, is_mapping, at_key]
    holder: str | None = None
    try:
        for event in yaml.parse(text, Loader=_ParserClass):
            if isinstance(event, yaml.CollectionEndEvent):
                stack.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            if stack:
                frame = stack[-1]
                if frame[3]:  # a mapping: keys count, values do not
                    frame[4] = not frame[4]
                    if not frame[4]:  # this event is a key (at_key was True before the toggle)
                        holder = event.value if isinstance(event, yaml.ScalarEvent) else None
                        _count_item(frame, left, event)
                        if isinstance(event, yaml.CollectionStartEvent):  # a complex key
                            stack.append(_frame(None, event))
                        continue
                else:
                    holder = None
                    _count_item(frame, left, event)
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append(_frame(holder, event))
    except YamlSyntaxError:
        raise
    except (yaml.YAMLError, RecursionError, UnicodeError, ValueError):
        return


def _frame(holder: str | None, event: yaml.Event) -> list[Any]:
    return [holder, limits.max_items(holder), 0, isinstance(event, yaml.MappingStartEvent), True]


def _count_item(frame: list[Any], left: list[int], event: yaml.Event) -> None:
    """Count one item of the collection `frame` and of the file (`left`: what the file may still hold)."""
    frame[2] += 1
    left[0] -= 1
    if frame[2] > frame[1] or left[0] < 0:
        mark = event.start_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark is not None else Mark(1, 1)
        message = limits.too_many(frame[0], frame[1]) if frame[2] > frame[1] else limits.too_many_in_file()
        raise YamlSyntaxError(message, where)


_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"


def depth_mark(text: str, limit: int = MAX_DEPTH) -> Mark | None:
    """Where the nesting first goes deeper than `limit`, from the parser's events (no recursion).

    Python's parser, because libyaml's scanner may give up at its own limit before the parser
    has handed over the event past ours; this runs only on a file already refused."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_PyLoader):
            if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                depth += 1
                if depth > limit:
                    mark = event.start_mark
                    return Mark(mark.line + 1, mark.column + 1) if mark is not None else Mark(1, 1)
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                depth -= 1
    except (yaml.YAMLError, RecursionError):
        return None
    return None


def _char_at(text: str, mark: Mark) -> str:
    lines = text.split("\n")
    if 0 < mark.line <= len(lines) and 0 < mark.col <= len(lines[mark.line - 1]):
        return lines[mark.line - 1][mark.col - 1]
    return ""


def _plain_reader_error(exc: yaml.YAMLError) -> str:
    character = getattr(exc, "character", None)
    if isinstance(character, str):
        return f"the file contains the control character {character!r}, which YAML does not allow"
    if isinstance(character, int):
        return f"the file contains the control character {chr(character)!r}, which YAML does not allow"
    return str(exc).splitlines()[0] if str(exc) else "invalid YAML"


def _reader_mark(text: str, exc: yaml.YAMLError) -> Mark:
    position = getattr(exc, "position", None)
    if not isinstance(position, int):
        return Mark(1, 1)
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    col = position - (text.rfind("\n", 0, position) + 1) + 1
    return Mark(line, col)


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _construct_float(loader: _PyLoader, node: yaml.ScalarNode) -> Any:
    return loader.construct_yaml_float(node)


_SCALARS: dict[str, Callable[[_PyLoader, yaml.ScalarNode], Any]] = {
    "tag:yaml.org,2002:str": lambda _loader, node: node.value,
    "tag:yaml.org,2002:int": lambda loader, node: loader.construct_yaml_int(node),
    "tag:yaml.org,2002:float": _construct_float,
    "tag:yaml.org,2002:bool": lambda loader, node: loader.construct_yaml_bool(node),
    "tag:yaml.org,2002:null": lambda _loader, _node: None,
}
_KEY_TAGS = frozenset(_SCALARS) | {_MERGE}


class _Builder:
    """Turns a node graph into plain data, recording marks; refuses unsafe tags and alias bombs."""

    def __init__(self, root: yaml.Node, *, text: str, may_alias: bool = True) -> None:
        self.root = root
        self.text = text
        self.marks: dict[Path_, Any] = {}
        self.key_marks: dict[Path_, Any] = {}
        self.constructor = _PyLoader("")
        # Aliases need an anchor (`&`); without one in the text, there is nothing to expand or loop.
        self.may_alias = may_alias
        self.budget = MAX_EXPANSION * _count_nodes(root) + _EXPANSION_MARGIN if may_alias else 0
        self.char_budget = MAX_EXPANSION * len(text) + _EXPANSION_MARGIN  # `*big_text` used a million times
        self.active: set[int] = set()
        self.items_left = limits.MAX_TOTAL_ITEMS
        """Items the file may still hold: each counts as it starts (pre-order), as in the other readers."""

    def located(self) -> Located:
        data = self.build(self.root, ())
        return Located(data, self.marks, self.key_marks)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        if path not in self.marks:
            self.marks[path] = node.start_mark
        if len(path) >= MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
            raise _too_deep(_mark(node))
        if not self.may_alias:
            return self.scalar(node) if isinstance(node, yaml.ScalarNode) else self.collection(node, path)
        self.budget -= 1
        if isinstance(node, yaml.ScalarNode):
            self.char_budget -= len(node.value)
        if self.budget < 0 or self.char_budget < 0:
            raise YamlSyntaxError(
                "aliases (`*name`) expand this file to far more data than it contains; "
                "write the values out instead", _mark(node)
            )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            raise YamlSyntaxError("an alias (`*name`) refers to a value that contains it", _mark(node))
        self.active.add(id(node))
        try:
            return self.collection(node, path)
        finally:
            self.active.discard(id(node))

    def collection(self, node: yaml.Node, path: Path_) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            _check_collection_tag(node, _SEQ)
            result = []
            for i, item in enumerate(node.value):
                self.count_item(node, path, i)
                result.append(self.build(item, (*path, i)))
            return result
        raise YamlSyntaxError("unsupported YAML node", _mark(node))

    def count_item(self, node: yaml.Node, path: Path_, index: int) -> None:
        """Count item `index` of `node` (a list, or a mapping's keys) against both limits."""
        holder = path[-1] if path else None
        limit = limits.max_items(holder)
        self.items_left -= 1
        if index >= limit:
            raise YamlSyntaxError(limits.too_many(holder, limit), self.item_mark(node, path, index))
        if self.items_left < 0:
            raise YamlSyntaxError(limits.too_many_in_file(), self.item_mark(node, path, index))

    def item_mark(self, node: yaml.Node, path: Path_, index: int) -> Mark:
        """Where item `index` of `node` (at `path`) is written: the alias's position when the item is
        an alias or sits inside what one expands to, since the node itself is the anchor's.

        Nodes do not remember aliases, so on this error path (only) the events are read again."""
        if not self.may_alias:
            return _item_mark(node, index)
        item = node.value[index]
        step = item[0].value if isinstance(item, tuple) else index
        aliases = alias_marks(self.text)
        probe: Path_ = (*path, step)
        while probe:
            if probe in aliases:
                return aliases[probe]
            probe = probe[:-1]
        return _item_mark(node, index)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        construct = _SCALARS.get(node.tag)
        if construct is None:
            raise _tag_error(node)
        try:
            value = construct(self.constructor, node)
        except Exception:  # ValueError (int digit limit, bad `!!int`), KeyError (bad `!!bool`) ...
            raise YamlSyntaxError(
                f"{node.value[:40]!r} cannot be read as {node.tag.rsplit(':', 1)[-1]}", _mark(node)
            ) from None
        overflowed = isinstance(value, float) and math.isinf(value) and "inf" not in node.value.lower()
        if overflowed:
            raise YamlSyntaxError(f"the number {node.value[:40]!r} is too large", _mark(node))
        return value

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        _check_collection_tag(node, _MAP)
        result: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        for index, (key_node, value_node) in enumerate(node.value):
            self.count_item(node, path, index)
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError(
                    "a mapping key must be plain text, not a list or a mapping", _mark(key_node)
                )
            if key_node.tag not in _KEY_TAGS:
                raise _tag_error(key_node)
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            key = key_node.value  # the key exactly as written: `yes`, `1` and `null` stay text
            if key in result:
                raise YamlSyntaxError(f"duplicate key {key!r}", _mark(key_node))
            self.key_marks[(*path, key)] = key_node.start_mark
            result[key] = self.build(value_node, (*path, key))
        merged: dict[str, Any] = {}
        for value_node in merges:  # after the explicit keys, so their marks win
            for key, value in self.merge_sources(value_node, path).items():
                merged.setdefault(key, value)
        if not merged:
            return result
        return {**{k: v for k, v in merged.items() if k not in result}, **result}

    def merge_sources(self, node: yaml.Node, path: Path_) -> dict[str, Any]:
        """`<<: *base` or `<<: [*a, *b]`; earlier sources win, as YAML specifies."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise YamlSyntaxError("`<<` merges only mappings (or a list of them)", _mark(source))
            for key, value in self.build(source, path).items():
                merged.setdefault(key, value)
        return merged


def alias_marks(text: str) -> dict[Path_, Mark]:
    """The position of each alias (`*name`) written as a value, by the path of the data it stands for.

    Merge keys (`<<: *base`) are left out: what they add has the path of the mapping they merge into."""
    marks: dict[Path_, Mark] = {}
    stack: list[list[Any]] = []  # per open collection: [path, is_mapping, next index, key, at_key]
    for event in yaml.parse(text, Loader=_ParserClass):
        if isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        path: Path_ | None = ()
        if stack:
            frame = stack[-1]
            if frame[0] is None:  # inside a complex key: nothing there is a value
                path = None
            elif frame[1] and frame[4]:  # a key
                frame[4] = False
                frame[3] = event.value if isinstance(event, yaml.ScalarEvent) else None
                if isinstance(event, yaml.CollectionStartEvent):
                    stack.append([None, isinstance(event, yaml.MappingStartEvent), 0, None, True])
                continue
            elif frame[1]:
                frame[4] = True
                path = None if frame[3] is None else (*frame[0], frame[3])
            else:
                path = (*frame[0], frame[2])
                frame[2] += 1
        if isinstance(event, yaml.AliasEvent) and path is not None and event.start_mark is not None:
            marks[path] = Mark(event.start_mark.line + 1, event.start_mark.column + 1)
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([path, isinstance(event, yaml.MappingStartEvent), 0, None, True])
    return marks


def _item_mark(node: yaml.Node, index: int) -> Mark:
    """Where item `index` of a list starts, or key `index` of a mapping."""
    item = node.value[index]
    return _mark(item[0] if isinstance(item, tuple) else item)


def _count_nodes(root: yaml.Node) -> int:
    """Distinct nodes in the graph (aliases not expanded), without recursion."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return len(seen)


def _check_collection_tag(node: yaml.Node, expected: str) -> None:
    if node.tag != expected:
        raise _tag_error(node)


def _tag_error(node: yaml.Node) -> YamlSyntaxError:
    return YamlSyntaxError(
        f"the tag {node.tag!r} is not allowed in prototype files; only plain text, numbers, "
        "true/false, lists and mappings are", _mark(node)
    )


# -- writing ----------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """SafeDumper that indents sequences under their key, never writes aliases, and uses `|` blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


_ODD_BREAKS = frozenset("\r\x85\u2028\u2029")
"""Line breaks PyYAML would write raw in plain or quoted text, and then read back as `\n` or a space."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if not _ODD_BREAKS.isdisjoint(value):
        return dumper.represent_scalar(_STR, value, style='"')  # escaped, so they survive the round trip
    if "\n" in value:
        return dumper.represent_scalar(_STR, value, style="|")
    return dumper.represent_scalar(_STR, value)


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    """Whole floats are written as integers (`weight: 2`, not `2.0`), as people write them."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return dumper.represent_int(int(value))
    return dumper.represent_float(value)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(float, _represent_float)


def dump(data: Any, *, check_limits: bool = False) -> str:
    """Canonical YAML for plain data (dicts, lists, str, int, float, bool, None).

    `check_limits`: refuse (`limits.TooManyToSave`) a prototype the readers would refuse to open."""
    fast = fast_dump(data, check_limits=check_limits)
    if fast is not None:
        return fast
    if check_limits:
        limits.check_data(data)
    return dump_with_pyyaml(data)


def dump_with_pyyaml(data: Any) -> str:
    """The reference writer: PyYAML's emitter. `yamlfast` must produce exactly this text."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000_000,
        indent=2,
    )
