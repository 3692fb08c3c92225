"""The fast canonical reader returns exactly the positioned loader's data, or refuses (NotCanonical)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.document import dumps_prototype, parse_prototype, to_data
from app.core.errors import PrototypeError
from app.core.prototype import Prototype
from app.core.yamlcanon import NotCanonical, read_canonical
from app.core.yamlfast import fast_dump
from app.core.yamlio import YamlSyntaxError, dump, load_located

from .conftest import EXAMPLES
from .strategies import prototypes
from .test_fuzz import mutation
from .test_yamlfast import keys, values


def same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (`1`, `1.0` and `True` differ), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def slow(text: str) -> Any:
    return load_located(text).data


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(keys, values, min_size=1, max_size=4))
def test_reads_what_the_writer_writes_on_arbitrary_data(data: dict[str, Any]) -> None:
    text = dump(data)
    try:
        fast = read_canonical(text)
    except NotCanonical:
        assert fast_dump(data) is None, "the fast writer wrote it, so the fast reader must read it"
        return
    assert same(fast, slow(text))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proto=prototypes())
def test_reads_every_generated_prototype(proto: Prototype) -> None:
    text = dumps_prototype(proto)
    try:
        fast = read_canonical(text)
    except NotCanonical:
        assert fast_dump(to_data(proto)) is None, "the fast writer wrote it, so the fast reader must read it"
        return
    assert same(fast, slow(text))


CANONICAL = [dumps_prototype(parse_prototype(p.read_text(encoding="utf-8"))).encode() for p in EXAMPLES]


@st.composite
def mutated_canonical(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(CANONICAL))
    for _ in range(draw(st.integers(1, 3))):
        text = draw(mutation(text))
    return text


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutated_canonical())
def test_mutated_canonical_files_read_the_same_or_fall_back(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        fast = read_canonical(text)
    except NotCanonical:
        return
    try:
        reference = slow(text)
    except YamlSyntaxError as exc:
        pytest.fail(f"fast reader accepted text the loader refuses ({exc.message}):\n{text}")
    assert same(fast, reference)


def test_the_example_files_in_canonical_form_take_the_fast_path() -> None:
    for text in CANONICAL:
        decoded = text.decode()
        assert same(read_canonical(decoded), slow(decoded))


BASE = "name: demo\nprofiles:\n  - id: a\n    system_prompt: hi\n"


@pytest.mark.parametrize("text", [
    "name: &n demo\nother: *n\n",                  # anchor and alias
    "name: !!str demo\n",                          # tag
    "name: demo\nname: again\n",                   # duplicate key
    "name: demo\nprofiles:\n   - id: a\n",          # three-space indentation
    "name: demo\nprofiles:\n- id: a\n",             # indentless sequence
    "name: demo # comment\n",                      # comment
    "# comment\nname: demo\n",
    "name: demo\n\nother: x\n",                    # blank line
    "? [a, b]\n: c\n",                             # complex key
    "name: [a, b]\n",                              # flow sequence with items
    "name: {a: b}\n",
    "name: demo",                                  # no final line break
    "name:   demo\n",
    "name: 'demo'\n",                              # quoted where the writer writes plain
    "yes: 1\n",                                    # key the writer quotes
    "n: 1.0\n",                                    # float the writer writes as 1
    "n: 0x10\n",
    "t: 2026-11-22\n",                             # fine for the loader, but the writer quotes it
    "a: b\r\nc: d\r\n",                            # CRLF
    "a:\tb\n",
    "---\nname: demo\n",
    "text: >\n  folded\n",
    "text: |\n   three spaces\n",
    "text: |\n  a\n\n",                           # clip block with a trailing blank line
    "text: plain\n  continued\n",                  # multi-line plain scalar
    "text: \"a\\x41\"\n",                          # escape the writer would not use
    "<<: {}\n",
    "- a\n",                                       # top level is not a mapping
    "",
])
def test_anything_the_writer_would_not_write_falls_back(text: str) -> None:
    with pytest.raises(NotCanonical):
        read_canonical(text)


def test_errors_keep_their_positions_when_the_file_is_canonical_yaml() -> None:
    text = BASE + "cases:\n  - id: c\n    vars:\n      x: 1\n  - id: c\n    vars:\n      x: 2\n"
    read_canonical(text)  # canonical YAML, but the document is invalid: the slow path reports it
    with pytest.raises(PrototypeError) as info:
        parse_prototype(text, "f.yaml")
    assert "f.yaml:" in str(info.value)
    assert "f.yaml:1:1" not in str(info.value)


def test_fast_and_slow_paths_build_the_same_prototype() -> None:
    for path in EXAMPLES:
        original = parse_prototype(path.read_text(encoding="utf-8"))
        canonical = dumps_prototype(original)
        assert to_data(parse_prototype(canonical)) == to_data(original)


def test_one_search_refuses_exactly_what_the_writer_never_puts_in_a_literal_block() -> None:
    """`_LITERAL_REFUSED` is the writer's special characters plus every line break but `\\n`."""
    from app.core.yamlcanon import _LITERAL_REFUSED
    from app.core.yamlfast import _SPECIAL

    odd_breaks = {"\r", "\x85", "\u2028", "\u2029"}
    for code in [*range(0x30000), 0x10FFFE, 0x10FFFF]:
        char = chr(code)
        refused = _SPECIAL.search(char) is not None or char in odd_breaks
        assert (_LITERAL_REFUSED.search(char) is not None) == refused, hex(code)


def test_a_file_refused_at_an_item_limit_reads_only_up_to_the_crossing() -> None:
    """The reader works out each line as it reaches it (nothing is split or measured ahead), so a
    huge list refused at its 1,001st item costs a thousand items' work, not the whole file's."""
    from app.core.yamlcanon import _END_LINE, TooManyItems, _Reader

    class Watched(list[str]):
        furthest = 0

        def __getitem__(self, index: int) -> str:  # type: ignore[override]
            self.furthest = max(self.furthest, index)
            return super().__getitem__(index)

    lines = Watched(["name: x", "tags:", *(f"  - t{i}" for i in range(200_000)), _END_LINE])
    reader = _Reader(lines)
    with pytest.raises(TooManyItems) as info:
        reader.mapping(0, 0, None, 1, None)
    assert info.value.mark.line == 2 + 1_001
    assert lines.furthest < 1_100
