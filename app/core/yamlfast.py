"""A fast writer for canonical YAML that produces exactly what PyYAML's emitter would.

PyYAML's pure-Python emitter looks at every character of every string, one at a time, which
makes saving a prototype with a long run history take seconds. libyaml's emitter is fast but
escapes emoji, so it cannot write our files. This module writes the same bytes as
`yamlio.dump` with PyYAML (same scalar analysis, same style choices, same layout), doing the
per-character work with regular expressions. Anything it is not sure about (odd keys, unknown
types) makes it return None, and the caller falls back to PyYAML. Tests compare both writers on
generated data, so the fast path can never change what a file looks like.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import yaml

from app.core import limits

_BREAKS = "\n\x85\u2028\u2029"
_WS = "\0 \t\r\n\x85\u2028\u2029"
_SPECIAL = re.compile("[^\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010fffe]")
_LINE_BREAK = re.compile(f"[{_BREAKS}]")
_BREAK_SPACE = re.compile(f"[{_BREAKS}] ")
_SPACE_BREAK = re.compile(f" [{_BREAKS}]")
_COLON_BLOCK = re.compile(f":(?:[{_WS}]|\\Z)")
_HASH_BLOCK = re.compile(f"[{_WS}]#")
_DQ_ESCAPE = re.compile('[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd]|["\\\\\x85\u2028\u2029\ufeff]')
_ESCAPES: dict[str, str] = yaml.emitter.Emitter.ESCAPE_REPLACEMENTS
_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_RESOLVER = yaml.resolver.Resolver()
_RESOLVED_FIRST = frozenset(_RESOLVER.yaml_implicit_resolvers)
"""First characters some implicit resolver looks at (`true`, `null`, `off`, numbers)."""
PLAIN_TEXT = re.compile(r"[A-Za-z](?:[ -\"$-9;-~]*[!-\"$-9;-~])?\Z")
"""Text PyYAML leaves plain unless a resolver claims it: a letter first, then printable ASCII
without `:` or `#`, no space at the end. (Those two characters, a space at either end and anything
non-ASCII are what can make PyYAML quote a string that starts with a letter.)"""
LONGEST_WORD = 5
"""YAML 1.1's bool and null words (`false`, `NULL`, `off`, ...) are at most five letters: longer
text that starts with a letter resolves to a string."""
INT_TEXT = re.compile(r"(?:0|-?[1-9][0-9]{0,17})\Z")
"""An int as `str(int)` writes it: no sign on zero, no leading zeros, no `_` or `+`."""
FLOAT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,15})\.[0-9]{1,17}\Z")
"""A float as `repr(float)` writes most of them (no exponent); PyYAML reads it back as that float."""
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
"""`2026-11-22T06:00:00Z`: PyYAML's resolver calls it a timestamp, so the writer single-quotes it."""


class _Unsupported(Exception):
    """Something the fast writer does not handle; PyYAML writes the document instead."""


class Analysis:
    """The subset of PyYAML's ScalarAnalysis that block-context style choice depends on."""

    __slots__ = ("allow_block", "allow_block_plain", "allow_single_quoted", "empty", "multiline")

    def __init__(self, text: str) -> None:
        if not text:
            self.empty, self.multiline = True, False
            self.allow_block_plain, self.allow_single_quoted, self.allow_block = True, True, False
            return
        self.empty = False
        line_breaks = _LINE_BREAK.search(text) is not None
        special = _SPECIAL.search(text) is not None
        space_break = _SPACE_BREAK.search(text) is not None
        break_space = _BREAK_SPACE.search(text) is not None
        first, last = text[0], text[-1]
        followed_by_ws = len(text) == 1 or text[1] in _WS
        block_indicators = (
            text.startswith(("---", "..."))
            or first in "#,[]{}&*!|>'\"%@`"
            or (first in "?:-" and followed_by_ws)
            or _COLON_BLOCK.search(text, 1) is not None
            or _HASH_BLOCK.search(text) is not None
        )
        self.multiline = line_breaks
        self.allow_block_plain = not (
            first == " " or first in _BREAKS or last == " " or last in _BREAKS
            or break_space or space_break or special or line_breaks or block_indicators
        )
        self.allow_single_quoted = not (break_space or space_break or special)
        self.allow_block = not (last == " " or space_break or special)


def plain_text(value: str) -> bool:
    """Whether PyYAML writes this string plain, recognised by pattern (False means: ask Analysis)."""
    return PLAIN_TEXT.match(value) is not None and (
        value[0] not in _RESOLVED_FIRST or len(value) > LONGEST_WORD or _resolves_plain_to(value) == _STR_TAG
    )


def _resolves_plain_to(value: str) -> str:
    resolved: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return resolved


def _double_quoted(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        ch = match.group()
        if ch in _ESCAPES:
            return "\\" + _ESCAPES[ch]
        code = ord(ch)
        if code <= 0xFF:
            return f"\\x{code:02X}"
        if code <= 0xFFFF:
            return f"\\u{code:04X}"
        return f"\\U{code:08X}"

    return '"' + _DQ_ESCAPE.sub(escape, text) + '"'


def _literal(text: str, indent: int) -> str:
    """`|` header, hints, and the lines indented; blank lines carry no spaces, as PyYAML writes them."""
    hints = ""
    if text[0] in " \n":
        hints += "2"
    if text[-1] != "\n":
        hints += "-"
    elif len(text) == 1 or text[-2] == "\n":
        hints += "+"
    pad = " " * indent
    body = text[:-1] if text.endswith("\n") else text
    if body and "\n\n" not in body and body[0] != "\n" and body[-1] != "\n":  # no blank line: one replace
        return f" |{hints}\n" + pad + body.replace("\n", "\n" + pad) + "\n"
    lines = [pad + line if line else "" for line in body.split("\n")]
    return f" |{hints}\n" + "\n".join(lines) + "\n"


def _single_line(value: str) -> str:
    """A value without `\\n`, with its leading space and line break: plain, 'single' or "double"."""
    if plain_text(value):
        return " " + value + "\n"
    if TIMESTAMP.match(value):
        return " '" + value + "'\n"
    if any(ch in value for ch in "\r\x85\u2028\u2029"):
        return " " + _double_quoted(value) + "\n"
    analysis = Analysis(value)
    if analysis.allow_block_plain and _resolves_plain_to(value) == _STR_TAG:
        return " " + value + "\n"
    if analysis.allow_single_quoted:
        return " '" + value.replace("'", "''") + "'\n"
    return " " + _double_quoted(value) + "\n"


_short_string = functools.lru_cache(maxsize=8192)(_single_line)


@functools.lru_cache(maxsize=4096)
def _key_text(key: str) -> str | None:
    """A mapping key as PyYAML writes it in simple-key position, or None for the ones we leave to it."""
    if not key or len(key) >= 100:  # PyYAML switches to `? key` form from about 123 characters
        return None
    if any(ch in key for ch in "\r\n\x85\u2028\u2029"):
        return None
    analysis = Analysis(key)
    if analysis.allow_block_plain and _resolves_plain_to(key) == _STR_TAG:
        return key
    if analysis.allow_single_quoted:
        return "'" + key.replace("'", "''") + "'"
    return None


def _other_uncached(value: Any) -> str:
    """A number, bool or null with its leading space and line break (checked against PyYAML's resolver)."""
    if value is None:
        text, tag = "null", "tag:yaml.org,2002:null"
    elif isinstance(value, bool):
        text, tag = ("true" if value else "false"), "tag:yaml.org,2002:bool"
    elif isinstance(value, int):
        text, tag = str(value), _INT_TAG
    elif isinstance(value, float):
        text, tag = _float_text(value)
        if FLOAT_TEXT.match(text):  # digits, one dot, maybe a minus: plain, and read back as this float
            return " " + text + "\n"
    else:
        raise _Unsupported(type(value).__name__)
    if _resolves_plain_to(text) != tag or not Analysis(text).allow_block_plain:
        raise _Unsupported(text)
    return " " + text + "\n"


_other_scalar = functools.lru_cache(maxsize=8192, typed=True)(_other_uncached)
"""Counts, flags and timings repeat across runs; `typed` keeps `1`, `1.0` and `True` apart."""


_KEY_LINES: dict[int, dict[str, str]] = {}
"""Per indentation, `    key:` as written for each key seen: the same few keys start most lines."""
_KEY_LINES_KEPT = 4096
_TEXT_LINES: dict[int, dict[tuple[str, str], str]] = {}
"""Per indentation, whole `    key: text` lines by (key, text): most of a run's lines repeat across runs."""
_TEXT_LINES_KEPT = 32_768


class _Writer:
    def __init__(self, *, check_limits: bool = False) -> None:
        self.out: list[str] = []
        self.open_ended = False  # the last thing written was a `|+` block: PyYAML then ends with `...`
        self.left: int | None = limits.MAX_TOTAL_ITEMS if check_limits else None
        """Items the file may still hold (None: not checked), counted as the readers count them."""

    def count(self, items: int, holder: str | None) -> None:
        """Check a list or mapping of `items` held by `holder` against the readers' item limits.

        Per collection, not per item: the check costs nothing next to writing the items."""
        assert self.left is not None
        limit = limits.max_items(holder)
        if items > limit:
            raise limits.TooManyToSave(f"cannot save: {limits.too_many(holder, limit)}; the file was not "
                                       "written (delete some, or split the prototype)")
        self.left -= items
        if self.left < 0:
            raise limits.TooManyToSave(f"cannot save: {limits.too_many_in_file()}; the file was not written")

    # -- scalars ----------------------------------------------------------------------------------

    def scalar(self, value: Any, indent: int) -> None:
        """Write a scalar value after `key:` or `-`, including the line break."""
        if isinstance(value, str):
            self.string(value, indent)
            return
        kind = type(value)  # exact types only: hashable, and NaN (never equal to itself) is not cached
        cacheable = kind is int or kind is bool or value is None or (kind is float and not math.isnan(value))
        self.out.append(_other_scalar(value) if cacheable else _other_uncached(value))
        self.open_ended = False

    def string(self, value: str, indent: int) -> None:
        self.open_ended = False
        if "\n" not in value and len(value) <= 80:
            self.out.append(_short_string(value))  # ids, roles, names: few distinct values, cached
            return
        if any(ch in value for ch in "\r\x85\u2028\u2029"):
            self.out.append(" " + _double_quoted(value) + "\n")
            return
        if "\n" in value:
            if value[-1] != " " and " \n" not in value and _SPECIAL.search(value) is None:  # allow_block
                self.out.append(_literal(value, indent + 2))
                self.open_ended = value.endswith("\n") and (len(value) == 1 or value[-2] == "\n")
            else:
                self.out.append(" " + _double_quoted(value) + "\n")
            return
        self.out.append(_single_line(value))

    def key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise _Unsupported("key")
        text = _key_text(key)
        if text is None:
            raise _Unsupported("key")
        return text

    # -- collections ------------------------------------------------------------------------------

    def mapping(self, data: dict[Any, Any], indent: int, inline_first: bool) -> None:
        """The hot loop of saving a big file: the common values are written here without dispatch,
        and a `key: text` line seen before (`role: user`, `thumb: up`) is one lookup and one append."""
        out = self.out
        pad = " " * indent
        first = inline_first
        key_lines = _KEY_LINES.get(indent)
        if key_lines is None or len(key_lines) > _KEY_LINES_KEPT:
            key_lines = _KEY_LINES[indent] = {}
        text_lines = _TEXT_LINES.get(indent)
        if text_lines is None or len(text_lines) > _TEXT_LINES_KEPT:
            text_lines = _TEXT_LINES[indent] = {}
        scalar_last = False
        for key, value in data.items():
            kind = value.__class__
            if first:
                text = _key_text(key) if key.__class__ is str else None
                if text is None:
                    raise _Unsupported("key")
                out.append(text + ":")
                first = False
            else:
                if kind is str:
                    whole = text_lines.get((key, value))
                    if whole is not None:
                        out.append(whole)
                        scalar_last = True
                        continue
                line = key_lines.get(key)
                if line is None:
                    text = _key_text(key) if key.__class__ is str else None
                    if text is None:
                        raise _Unsupported("key")
                    line = key_lines[key] = pad + text + ":"
                if kind is str and len(value) <= 80 and "\n" not in value:
                    whole = text_lines[(key, value)] = line + _short_string(value)
                    out.append(whole)
                    scalar_last = True
                    continue
                out.append(line)
            if kind is str and len(value) <= 80 and "\n" not in value:
                out.append(_short_string(value))  # ids, roles, names: few distinct values, cached
            elif kind is int or kind is bool or value is None:
                out.append(_other_scalar(value))
            elif kind is float and math.isfinite(value) and not value.is_integer() and FLOAT_TEXT.match(
                    number := repr(value)):
                out.append(" " + number + "\n")  # timings and costs: rarely the same twice, so not cached
            else:
                self.after_indicator(value, indent, nested_indent=indent + 2, inline=False, holder=key)
                scalar_last = False
                continue
            scalar_last = True
        if scalar_last:
            self.open_ended = False

    def sequence(self, items: list[Any], indent: int, inline_first: bool) -> None:
        out = self.out
        dash = " " * indent + "-"
        for index, item in enumerate(items):
            out.append(dash if index or not inline_first else "-")
            self.after_indicator(item, indent, nested_indent=indent + 2, inline=True, holder=None)

    def after_indicator(
        self, value: Any, indent: int, nested_indent: int, inline: bool, holder: str | None
    ) -> None:
        """The value after `key:` (block children go on new lines) or `-` (they start inline).

        `holder` is that key (None after `-`): the item limit of a list or mapping depends on it."""
        kind = value.__class__
        if kind is dict or kind is list or isinstance(value, dict | list):
            if not value:
                self.out.append(" {}\n" if isinstance(value, dict) else " []\n")
                self.open_ended = False
                return
            if self.left is not None:
                self.count(len(value), holder)
            self.out.append(" " if inline else "\n")
            if isinstance(value, dict):
                self.mapping(value, nested_indent, inline_first=inline)
            else:
                self.sequence(value, nested_indent, inline_first=inline)
        else:
            self.scalar(value, indent)


def _float_text(value: float) -> tuple[str, str]:
    """What yamlio's float representer writes: whole floats as integers, else PyYAML's float text."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return str(int(value)), _INT_TAG
    if math.isnan(value):
        return ".nan", _FLOAT_TAG
    if math.isinf(value):
        return (".inf" if value > 0 else "-.inf"), _FLOAT_TAG
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text, _FLOAT_TAG


def fast_dump(data: Any, *, check_limits: bool = False) -> str | None:
    """The canonical YAML for `data`, or None when PyYAML must write it.

    `check_limits`: raise `limits.TooManyToSave` for data the readers would refuse (a prototype)."""
    if not isinstance(data, dict) or not data:
        return None
    writer = _Writer(check_limits=check_limits)
    if check_limits:
        writer.count(len(data), None)
    try:
        writer.mapping(data, 0, inline_first=False)
    except _Unsupported:
        return None
    text = "".join(writer.out)
    return text + "...\n" if writer.open_ended else text
