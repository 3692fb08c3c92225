"""Fuzz the loader with mutated copies of the real example files.

Whatever the bytes, loading either succeeds (and the result saves and reloads to the same
document) or raises PrototypeError with sane positions. Nothing else may escape.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.core.document import dumps_prototype, load_prototype, parse_prototype
from app.core.errors import PrototypeError

from .conftest import EXAMPLES

SOURCES = [p.read_bytes() for p in EXAMPLES]
KEY = re.compile(rb"^( *(?:- )?)([A-Za-z_]+):", re.MULTILINE)
SNIPPETS = [b"&a ", b"*a", b"<<: *a\n", b"!!python/object:os.system ", b"!!int ", b"? ", b"[", b"]", b"{",
            b"}", b"---\n", b"...\n", b"\t", b'"', b"'", b"|", b">", b"%YAML 1.1\n", b"- ", b": ", b"#",
            b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf", b"~", b"null", b"1e999", b"9" * 5000, b"[" * 3000]
KEY_NAMES = [b"id", b"name", b"profiles", b"cases", b"turns", b"role", b"content", b"assert", b"protostudio",
             b"models", b"params", b"runs", b"vars", b"null", b"true", b"1", b"<<", b"", b"sytem_prompt"]


def _lines(text: bytes) -> list[bytes]:
    return text.split(b"\n")


@st.composite
def mutation(draw: st.DrawFn, text: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "delete", "duplicate", "indent", "truncate", "rename", "insert"]))
    if not text:
        return draw(st.sampled_from(SNIPPETS))
    if kind == "flip":
        at = draw(st.integers(0, len(text) - 1))
        return text[:at] + bytes([draw(st.integers(0, 255))]) + text[at + 1:]
    if kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if kind == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
    if kind == "rename":
        keys = list(KEY.finditer(text))
        if not keys:
            return text
        match = draw(st.sampled_from(keys))
        new = draw(st.sampled_from(KEY_NAMES) | st.binary(min_size=1, max_size=6))
        return text[: match.start(2)] + new + text[match.end(2):]
    lines = _lines(text)
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    else:
        shift = draw(st.sampled_from([b" ", b"  ", b"    ", b"\t", b"-"]))
        lines[i] = shift + lines[i] if draw(st.booleans()) else lines[i][len(shift):]
    return b"\n".join(lines)


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(mutation(text))
    return text


WORKDIR = Path(tempfile.mkdtemp(prefix="protostudio-fuzz-"))


@settings(max_examples=600, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutated_files())
def test_mutated_files_raise_only_prototype_error(data: bytes) -> None:
    path = WORKDIR / "fuzzed.yaml"
    path.write_bytes(data)
    try:
        proto = load_prototype(path)
    except PrototypeError as exc:
        event("refused")
        assert exc.problems
        line_count = data.count(b"\n") + 2
        for problem in exc.problems:
            assert problem.file == str(path)
            assert 1 <= problem.line <= line_count, problem
            assert problem.col >= 1, problem
            assert problem.message.strip()
        return
    event("loaded")
    text = dumps_prototype(proto)
    assert parse_prototype(text) == proto
    assert dumps_prototype(parse_prototype(text)) == text


def test_the_fuzzer_reaches_both_outcomes() -> None:
    """Guard against a fuzzer that only ever produces garbage (or never does)."""
    ok = parse_prototype(SOURCES[0].decode())
    assert ok.name
    broken = SOURCES[0].replace(b"profiles:", b"profiles: [")
    try:
        parse_prototype(broken.decode())
    except PrototypeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a broken file loaded")
