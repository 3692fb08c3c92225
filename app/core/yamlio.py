"""Safe YAML reading that remembers where every value came from, and canonical YAML writing.

Reading composes YAML nodes with a SafeLoader subclass and builds plain Python data
ourselves, so we can (a) keep the `line:col` of every key and value for error messages,
(b) reject duplicate keys, which PyYAML silently overwrites, and (c) keep timestamps as
strings. Writing is canonical: insertion key order, block literals for multi-line text,
unicode as is, no tags. `dump(load(text)) == text` for any text this module wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

Path_ = tuple[str | int, ...]
"""A location inside a document: mapping keys and sequence indexes."""


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


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: dates stay the strings the user wrote."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Located:
    """Parsed data plus the source position of each path (value marks and key marks)."""

    data: Any
    marks: dict[Path_, Mark]
    key_marks: dict[Path_, Mark]

    def mark_for(self, path: Path_, *, key: bool = False) -> Mark:
        """The most precise known position for `path`, walking up to a parent when needed."""
        table = self.key_marks if key else self.marks
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.marks:
                return self.marks[probe]
            probe = probe[:-1]
        return self.marks.get((), Mark(1, 1))


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def load_located(text: str) -> Located:
    """Parse YAML text safely. Raises YamlSyntaxError with a position on any problem."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise YamlSyntaxError(f"YAML syntax error: {problem}", where) from None
    except yaml.YAMLError as exc:  # e.g. reader errors for control characters
        mark = getattr(exc, "position", None)
        raise YamlSyntaxError(f"YAML error: {exc}", Mark(1, (mark or 0) + 1)) from None
    marks: dict[Path_, Mark] = {}
    key_marks: dict[Path_, Mark] = {}
    if root is None:
        return Located(None, marks, key_marks)
    constructor = _Loader("")  # only used to construct scalars with the safe resolvers
    data = _build(root, (), marks, key_marks, constructor)
    return Located(data, marks, key_marks)


_SAFE_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "merge", "value")
)


def _check_tag(node: yaml.Node) -> None:
    """Only plain YAML types: `!!python/...` and custom tags are refused, not constructed."""
    if isinstance(node, yaml.MappingNode):
        allowed = node.tag == "tag:yaml.org,2002:map"
    elif isinstance(node, yaml.SequenceNode):
        allowed = node.tag == "tag:yaml.org,2002:seq"
    else:
        allowed = node.tag in _SAFE_SCALAR_TAGS
    if not allowed:
        raise YamlSyntaxError(f"tags such as {node.tag!r} are not allowed in prototype files", _mark(node))


def _build(
    node: yaml.Node,
    path: Path_,
    marks: dict[Path_, Mark],
    key_marks: dict[Path_, Mark],
    constructor: _Loader,
) -> Any:
    marks[path] = _mark(node)
    _check_tag(node)
    if isinstance(node, yaml.MappingNode):
        constructor.flatten_mapping(node)  # resolve `<<` merge keys the safe way
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError("a mapping key must be plain text", _mark(key_node))
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise YamlSyntaxError(f"duplicate key {key!r}", _mark(key_node))
            key_marks[(*path, key)] = _mark(key_node)
            result[key] = _build(value_node, (*path, key), marks, key_marks, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), marks, key_marks, constructor) for i, item in enumerate(node.value)]
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise YamlSyntaxError(f"unsupported value: {exc.problem}", _mark(node)) from None


# -- writing ----------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """SafeDumper that indents sequences under their key and writes multi-line text as `|` blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump(data: Any) -> str:
    """Canonical YAML for plain data (dicts, lists, str, int, float, bool, None)."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
        indent=2,
    )
