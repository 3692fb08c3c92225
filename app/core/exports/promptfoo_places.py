"""Where each dropped item of a promptfoo import is written (`promptfooconfig.yaml:LINE:COL`), and one
line for a drop repeated across many tests.

A real config's dropped list must let its author find every item: the importer names each item
by what promptfoo calls it (`test 3`, `provider openai:gpt-4o`, `defaultTest`), and this module
adds the line and column of that item in the config. A config whose 250 tests all carry the same
unsupported key would otherwise print 250 lines saying the same thing.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

Path_ = tuple[str | int, ...]
"""Keys and list indexes from the config's root to an item: ("tests", 3, "vars")."""

MIN_GROUP = 3
"""Equal drops in this many tests or more are said once, with the tests' numbers."""

_TEST_RE = re.compile(r"^test (\d+)( \([^)]*\))?: (.*)$", re.DOTALL)


def node_places(text: str) -> dict[Path_, tuple[int, int]]:
    """(line, column), both 1-based, of every mapping value and list item in the YAML `text`."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    places: dict[Path_, tuple[int, int]] = {}
    stack: list[tuple[Path_, Any]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if node is None or len(path) > 4:  # items deeper than test -> assert -> item are not named
            continue
        places[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    stack.append(((*path, str(key.value)), value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(((*path, index), item) for index, item in enumerate(node.value))
    return places


def compact(lines: list[str]) -> list[str]:
    """Drops that differ only by their test number, when MIN_GROUP or more, as one `tests 1-9: ...` line
    (at the place of the first); other lines unchanged, in order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for line in lines:
        match = _TEST_RE.match(line)
        if match:
            groups.setdefault((match.group(2) or "", match.group(3)), []).append(int(match.group(1)))
    out: list[str] = []
    said: set[tuple[str, str]] = set()
    for line in lines:
        match = _TEST_RE.match(line)
        key = (match.group(2) or "", match.group(3)) if match else None
        if key is None or len(groups[key]) < MIN_GROUP:
            out.append(line)
        elif key not in said:
            said.add(key)
            out.append(f"tests {_ranges(groups[key])}{key[0]}: {key[1]}")
    return out


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 5, 7, 8 -> `1-3, 5, 7-8`."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    start = prev = ordered[0]
    for n in [*ordered[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def with_places(
    lines: list[str], where_paths: dict[str, Path_], places: dict[Path_, tuple[int, int]], file_name: str
) -> list[str]:
    """Each line that starts with a known item name (`test 3`, `provider x`) with ` (at FILE:LINE:COL)`
    added; the longest matching name wins (`test 1 (file://t.csv)` before `test 1`)."""
    names = sorted(where_paths, key=len, reverse=True)
    out: list[str] = []
    for line in lines:
        head = _first_test(line)
        name = next(
            (n for n in names if head.startswith(n) and head[len(n) : len(n) + 1] in (":", " ", "")), None
        )
        place = _deepest(where_paths[name], places) if name is not None else None
        out.append(f"{line} (at {file_name}:{place[0]}:{place[1]})" if place else line)
    return out


def _first_test(line: str) -> str:
    """`tests 4-9, 12 (file://x): ...` is placed where `test 4 (file://x)` is."""
    match = re.match(r"^tests (\d+)[-\d, ]*( \([^)]*\))?:", line)
    return f"test {match.group(1)}{match.group(2) or ''}:" if match else line


def _deepest(path: Path_, places: dict[Path_, tuple[int, int]]) -> tuple[int, int] | None:
    while path:
        if path in places:
            return places[path]
        path = path[:-1]
    return None
