"""A fast reader for the canonical YAML that `yamlfast` writes, and for nothing else.

PyYAML's composer spends about 5 s on a 15 MB prototype with 10,000 runs. Files the app wrote
itself follow one strict layout (two-space block indentation, one `key: value` per line, `|`
blocks for multi-line text), so they can be read line by line at C string speed. Every scalar
and key read here is checked by asking the writer how it would write the decoded value: only
when that gives back exactly the text in the file is the value accepted. So the fast reader
returns the data the positioned loader (`yamlio.load_located`) would return, or raises
`NotCanonical` at once, and the caller takes the slow path, which reports problems with
`file:line:col`. Tags, anchors, aliases, comments, flow collections, complex keys, duplicate keys,
odd indentation: all `NotCanonical`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from app.core import limits
from app.core.yamlfast import (
    FLOAT_TEXT,
    INT_TEXT,
    _key_text,
    _Unsupported,
    _Writer,
    plain_text,
)
from app.core.yamlio import MAX_DEPTH, Mark, _PyLoader

_LITERAL_HINTS = frozenset({"", "2", "-", "+", "2-", "2+"})
_DQ_ESCAPE = re.compile(r"\\(x[0-9A-F]{2}|u[0-9A-F]{4}|U[0-9A-F]{8}|.)", re.DOTALL)
_UNESCAPES: dict[str, str] = {value: key for key, value in yaml.emitter.Emitter.ESCAPE_REPLACEMENTS.items()}
_CONSTRUCTOR = _PyLoader("")
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP_QUOTED = re.compile(r"'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'\Z")
"""`created: '2026-11-22T06:00:00Z'`: the writer quotes these (`yamlfast.TIMESTAMP`)."""
_LITERAL_REFUSED = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010fffe]"
)
"""What the writer never puts in a `|` block: `yamlfast._SPECIAL`'s characters plus the line breaks
other than `\\n` (`\\r`, `\\x85`, `\\u2028`, `\\u2029`), in one search."""


class NotCanonical(Exception):
    """The text is not exactly what the canonical writer produces; read it with the slow loader."""


class TooManyItems(Exception):
    """A list or mapping crosses its item limit (`app.core.limits`): an error in any reading of the file.

    Raised at the first item past the limit, so a 7-million-item list costs a thousand items' work."""

    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def read_canonical(text: str) -> Any:
    """The data in `text` if it is canonical (a non-empty top-level mapping), else NotCanonical.

    TooManyItems when a list or mapping read so far crosses its limit."""
    if not text.endswith("\n"):
        raise NotCanonical("no final line break")
    lines = text.split("\n")
    lines.pop()  # the empty string after the final line break
    if lines and lines[-1] == "...":  # the writer ends with `...` after a `|+` block
        lines.pop()
    count = len(lines)
    lines.append(_END_LINE)
    reader = _Reader(lines)
    data, index = reader.mapping(0, 0, None, 1, None)
    if index != count:
        raise NotCanonical(f"line {index + 1}")
    return data


_KNOWN_LINES: dict[str, tuple[int, str, Any]] = {}
"""`      role: user`, `    provider: local`: checked `key: scalar` lines, indentation included, as
(indentation, key, value), so a repeated line costs one lookup and no slicing. Keys and values are
immutable (text, numbers), so sharing them between documents is safe."""
_ITEM_LINES: dict[str, tuple[str, Any]] = {}
"""`rater: ana` after a list item's `- `: the first line of a mapping in a list, as (key, value)."""
_LINES_KEPT = 65_536
_END_LINE = "\x00end"
"""Appended after the last line. Known at indentation -1, less than any, so every block ends there;
a real line with this text is not canonical (NUL), and ends the reading early, which the caller catches."""
_END = (-1, "", None)


def _remember(cache: dict[str, Any], line: str, entry: Any) -> None:
    if len(cache) >= _LINES_KEPT:
        cache.clear()
        _KNOWN_LINES[_END_LINE] = _END
    cache[line] = entry


_KNOWN_LINES[_END_LINE] = _END


class _Reader:
    """Reads the lines of a canonical file.

    A line's indentation is worked out only when the line is not a known one: most lines of a big
    file repeat (`provider: local`, `thumb: up`) and cost one dict lookup by their whole text."""

    __slots__ = ("left", "lines")

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        """The file's lines, then `_END_LINE`."""
        self.left = limits.MAX_TOTAL_ITEMS
        """Items the file may still hold: each item counts as it starts, as in the other readers."""

    def too_many(self, index: int, indent: int, key: str | None, limit: int, count: int) -> TooManyItems:
        """The error for the item at line `index`, column `indent` (0-based), item `count`."""
        message = limits.too_many(key, limit) if count > limit else limits.too_many_in_file()
        return TooManyItems(message, Mark(index + 1, indent + 1))

    def mapping(
        self, index: int, indent: int, first: str | None, depth: int, holder: str | None
    ) -> tuple[dict[str, Any], int]:
        """Keys at `indent`; `first` is the rest of the line after `- ` when the mapping starts inline.

        `holder` is the key this mapping is the value of (None inside a list), for its item limit.
        The hot loop of reading a big file: a known `key: scalar` line costs one dict lookup, the
        item counters live in locals (`self.left` is written back around the recursive call), and
        duplicate keys are found once at the end (a repeated key leaves fewer keys than lines)."""
        if depth >= MAX_DEPTH:
            raise NotCanonical("deep")
        lines = self.lines
        known_lines = _KNOWN_LINES
        result: dict[str, Any] = {}
        limit = limits.MAX_ITEMS.get(holder, limits.DEFAULT_MAX_ITEMS) if holder else limits.DEFAULT_MAX_ITEMS
        file_left = self.left  # items the file may hold, counting this mapping's from zero
        budget = min(limit, file_left)
        count = 0
        line: str | None = None  # None: `content` is the inline first line after `- `
        if first is not None:
            content = first
            known_item = _ITEM_LINES.get(first)
            if known_item is not None:
                if budget <= 0:
                    raise self.too_many(index, indent, holder, limit, 1)
                count = 1
                result[known_item[0]] = known_item[1]
                index += 1
                line = lines[index]
        else:
            line = lines[index]
        while True:  # one `key: value` line per turn
            if line is not None:
                known = known_lines.get(line)
                if known is not None:
                    at = known[0]
                    if at == indent:
                        if count >= budget:
                            raise self.too_many(index, indent, holder, limit, count + 1)
                        count += 1
                        result[known[1]] = known[2]
                        index += 1
                        line = lines[index]
                        continue
                else:
                    content = line.lstrip(" ")
                    at = len(line) - len(content)
                if at != indent:
                    if at < indent and count:
                        break
                    raise NotCanonical(f"indentation at line {index + 1}")
            if not content:
                raise NotCanonical("indentation")
            if content[0] == "-" and (len(content) == 1 or content[1] == " "):
                if count:
                    break  # the next item of the sequence this mapping sits in (same column)
                raise NotCanonical("no key")
            if count >= budget:
                raise self.too_many(index, indent, holder, limit, count + 1)
            count += 1
            index += 1
            if content[0] == "'":
                key, rest = _split_key(content)
            else:
                key, colon, rest = content.partition(": ")  # the first `: ` ends a plain key
                if not colon:
                    if content[-1] != ":":
                        raise NotCanonical("no key")
                    key = content[:-1]
                elif not rest:
                    raise NotCanonical("after key")
                _checked_key(key)
            if not rest:
                self.left = file_left - count
                value, index = self.block(index, indent + 2, depth + 1, key)
                file_left = self.left + count
                budget = min(limit, file_left)
            elif rest[0] == "|" or rest in ("{}", "[]"):
                value, index = self.inline_value(rest, index, indent, depth)
            elif len(rest) <= 80:
                value = _inline_scalar_uncached(rest)  # not seen before: no cache to ask
                if line is None:
                    _remember(_ITEM_LINES, content, (key, value))
                else:
                    _remember(known_lines, line, (indent, key, value))
            else:
                value = _inline_scalar_uncached(rest)
            result[key] = value
            line = lines[index]
        if len(result) != count:
            raise NotCanonical("duplicate key")
        self.left = file_left - count
        return result, index

    def sequence(
        self, index: int, indent: int, first: str | None, depth: int, holder: str | None
    ) -> tuple[list[Any], int]:
        if depth >= MAX_DEPTH:
            raise NotCanonical("deep")
        lines = self.lines
        item_lines = _ITEM_LINES
        result: list[Any] = []
        limit = limits.max_items(holder)
        item: Any
        content = self.content_at(index, indent) if first is None else first
        while True:
            if not content.startswith("- "):
                raise NotCanonical("sequence item")
            if len(result) >= limit or self.left <= 0:
                raise self.too_many(index, indent + 2, holder, limit, len(result) + 1)
            self.left -= 1
            rest = content[2:]
            if rest in item_lines:  # `- rater: ana`: a mapping whose first line is a known one
                item, index = self.mapping(index, indent + 2, rest, depth + 1, None)
            elif rest.startswith("- "):
                item, index = self.sequence(index, indent + 2, rest, depth + 1, None)
            elif rest in ("{}", "[]") or (rest.startswith(("|", "'", '"')) and not _quoted_key(rest)):
                item, index = self.inline_value(rest, index + 1, indent, depth)
            elif _has_key(rest):
                item, index = self.mapping(index, indent + 2, rest, depth + 1, None)
            else:
                item = _inline_scalar(rest) if len(rest) <= 80 else _inline_scalar_uncached(rest)
                index += 1
            result.append(item)
            line = lines[index]  # `_END_LINE` is at indentation 0, and a list sits at 2 or more
            content = line.lstrip(" ")
            at = len(line) - len(content)
            if at != indent:
                if at < indent:
                    return result, index
                raise NotCanonical("indentation")

    def content_at(self, index: int, indent: int) -> str:
        """The first line of a block: exactly at `indent`, not blank."""
        line = self.lines[index]  # `_END_LINE` is at indentation 0: a block's lines are at 2 or more
        content = line.lstrip(" ")
        if len(line) - len(content) != indent or not content:
            raise NotCanonical(f"indentation at line {index + 1}")
        return content

    def block(self, index: int, indent: int, depth: int, holder: str) -> tuple[Any, int]:
        """A mapping or sequence on the lines after `holder:`."""
        if self.lines[index].startswith("- ", indent):  # `sequence` checks the indentation itself
            return self.sequence(index, indent, None, depth, holder)
        return self.mapping(index, indent, None, depth, holder)

    def inline_value(self, rest: str, index: int, indent: int, depth: int) -> tuple[Any, int]:
        """The value after `key: ` or `- `; `index` is the next line (a `|` block's first line)."""
        if rest == "{}":
            return {}, index
        if rest == "[]":
            return [], index
        if rest.startswith("|"):
            return self.literal(rest, index, indent)
        value = _inline_scalar(rest) if len(rest) <= 80 else _inline_scalar_uncached(rest)
        return value, index

    def literal(self, header: str, index: int, indent: int) -> tuple[str, int]:
        if header[1:] not in _LITERAL_HINTS:
            raise NotCanonical("literal header")
        lines = self.lines
        width = indent + 2
        pad = " " * width
        start = index
        line = lines[index]
        while line.startswith(pad) or not line:  # `_END_LINE` is neither
            index += 1
            line = lines[index]
        if index == start:
            raise NotCanonical("empty literal")
        block = lines[start:index]
        if pad in block:  # the writer leaves blank lines of a block empty, without indentation
            raise NotCanonical("indented blank line")
        body = ("\n" + "\n".join(block)).replace("\n" + pad, "\n")[1:]
        value = body if "-" in header else body + "\n"
        if not _written_as_literal(value, header[1:]):
            raise NotCanonical("literal written differently")
        return value, index


def _written_as_literal(value: str, hints: str) -> bool:
    """Whether the writer writes `value` as a `|` block with these hints (`yamlfast._Writer.string`).

    Its lines are then the value's lines indented, blank ones empty, which the caller checked."""
    if "\n" not in value or value[-1] == " " or " \n" in value or _LITERAL_REFUSED.search(value) is not None:
        return False
    expected = "2" if value[0] in " \n" else ""
    if value[-1] != "\n":
        expected += "-"
    elif len(value) == 1 or value[-2] == "\n":
        expected += "+"
    return hints == expected


def _inline_scalar_uncached(token: str) -> Any:
    """A one-line scalar, accepted only if the writer writes its value as exactly `token`.

    The common shapes (plain text, ints, floats, quoted timestamps) are recognised by pattern, picked
    by the first character (they are disjoint: a letter, a digit or `-`, a quote); the rest by asking
    the writer how it writes the decoded value. A run's unique values (ids, times, timings, notes)
    all come through here on a file's first reading."""
    first = token[0]
    if first == "'":
        if _TIMESTAMP_QUOTED.match(token):
            return token[1:-1]
    elif first in _NUMBER_FIRST:
        if token.isdigit() and token.isascii() and (first != "0" or len(token) == 1) and len(token) <= 18:
            return int(token)  # what INT_TEXT matches without a sign, without the regex call
        if "." not in token:
            if INT_TEXT.match(token):
                return int(token)
        elif FLOAT_TEXT.match(token):
            number = float(token)
            if repr(number) == token and not number.is_integer():
                return number
    elif plain_text(token):
        return token
    value = _scalar(token)
    if _written(value, 0) != " " + token + "\n":
        raise NotCanonical("scalar written differently")
    return value


_NUMBER_FIRST = frozenset("-0123456789")
_inline_scalar = functools.lru_cache(maxsize=16384)(_inline_scalar_uncached)
"""Ids, roles, names, numbers repeat across thousands of runs: check each distinct one once."""


def _written(value: Any, indent: int) -> str:
    writer = _Writer()
    try:
        writer.scalar(value, indent)
    except _Unsupported:
        raise NotCanonical("unsupported value") from None
    return "".join(writer.out)


def _quoted_key(rest: str) -> bool:
    """`'a b': value` (a quoted key) as opposed to `'a: b'` (a quoted value)."""
    if not rest.startswith("'"):
        return False
    end = _single_quote_end(rest)
    return end is not None and rest[end + 1:end + 2] == ":"


def _has_key(rest: str) -> bool:
    if rest.startswith("'"):
        return _quoted_key(rest)
    return _plain_key_end(rest) >= 0


def _single_quote_end(text: str) -> int | None:
    """Index of the quote closing a `'...'` that starts at 0 (`''` is an escaped quote)."""
    pos = 1
    while True:
        pos = text.find("'", pos)
        if pos < 0:
            return None
        if text[pos + 1:pos + 2] == "'":
            pos += 2
            continue
        return pos


def _plain_key_end(content: str) -> int:
    pos = content.find(":")
    while pos >= 0:
        if pos + 1 == len(content) or content[pos + 1] == " ":
            return pos
        pos = content.find(":", pos + 1)
    return -1


def _split_key(content: str) -> tuple[str, str]:
    """`key: rest` -> (key, rest); `key:` -> (key, ""). The key must be written as the writer writes it."""
    if content.startswith("'"):
        end = _single_quote_end(content)
        if end is None:
            raise NotCanonical("quoted key")
        end += 1
    else:
        end = _plain_key_end(content)
        if end < 0:
            raise NotCanonical("no key")
    key = _checked_key(content[:end])
    after = content[end:]
    if after == ":":
        return key, ""
    if not after.startswith(": ") or len(after) == 2:
        raise NotCanonical("after key")
    return key, after[2:]


@functools.lru_cache(maxsize=4096)
def _checked_key(raw: str) -> str:
    key = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
    if _key_text(key) != raw:
        raise NotCanonical("key written differently")
    return key


def _scalar(token: str) -> Any:
    if token.startswith("'"):
        if len(token) < 2 or not token.endswith("'") or "'" in token[1:-1].replace("''", ""):
            raise NotCanonical("single quoted")
        return token[1:-1].replace("''", "'")
    if token.startswith('"'):
        if len(token) < 2 or not token.endswith('"'):
            raise NotCanonical("double quoted")
        return _DQ_ESCAPE.sub(_unescape, token[1:-1])  # checked by re-encoding, so odd escapes fail there
    return _plain(token) if len(token) <= 80 else _plain_uncached(token)


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) > 1:
        return chr(int(code[1:], 16))
    if code not in _UNESCAPES:
        raise NotCanonical("escape")
    return _UNESCAPES[code]


def _plain_uncached(token: str) -> Any:
    """A plain scalar resolved and built exactly as the positioned loader does (no timestamps)."""
    tag = _CONSTRUCTOR.resolve(yaml.ScalarNode, token, (True, False))  # type: ignore[no-untyped-call]
    if tag == _STR:
        return token
    node = yaml.ScalarNode(tag, token)
    try:
        if tag == "tag:yaml.org,2002:int":
            return _CONSTRUCTOR.construct_yaml_int(node)
        if tag == "tag:yaml.org,2002:float":
            return _CONSTRUCTOR.construct_yaml_float(node)
        if tag == "tag:yaml.org,2002:bool":
            return _CONSTRUCTOR.construct_yaml_bool(node)
    except Exception:
        raise NotCanonical("number") from None
    if tag == "tag:yaml.org,2002:null":
        return None
    raise NotCanonical(tag)


_plain = functools.lru_cache(maxsize=8192)(_plain_uncached)
