"""The fast writer produces exactly PyYAML's text, so it can never change what a file looks like."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.document import load_prototype, to_data
from app.core.prototype import Prototype
from app.core.yamlfast import fast_dump
from app.core.yamlio import dump_with_pyyaml

from .strategies import any_char, prototypes, text

keys = st.sampled_from(
    ["id", "name", "a b", "yes", "1", "null", "x:y", "x: y", "- a", "#c", "a #c", "it's", "café", "🐱", "k",
     "~"]
) | st.text(any_char, min_size=1, max_size=5)
values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text | st.text(any_char),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=500, deadline=None)
@given(data=st.dictionaries(keys, values, min_size=1, max_size=4))
def test_fast_writer_matches_pyyaml_on_arbitrary_data(data: dict[str, Any]) -> None:
    fast = fast_dump(data)
    if fast is not None:  # None means "PyYAML writes this one", which is always correct
        assert fast == dump_with_pyyaml(data)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proto=prototypes())
def test_fast_writer_matches_pyyaml_on_prototypes(proto: Prototype) -> None:
    data = to_data(proto)
    fast = fast_dump(data)
    if fast is not None:
        assert fast == dump_with_pyyaml(data)


def test_fast_writer_handles_the_example_files(example_path: Path) -> None:
    """The fast path must actually be taken for ordinary files, or saving silently gets slow again."""
    data = to_data(load_prototype(example_path))
    fast = fast_dump(data)
    assert fast is not None
    assert fast == dump_with_pyyaml(data) == example_path.read_text(encoding="utf-8")


def test_keep_chomping_at_the_end_gets_the_document_end_marker() -> None:
    data = {"a": "x\n\n"}
    assert fast_dump(data) == dump_with_pyyaml(data) == "a: |+\n  x\n\n...\n"


def test_odd_keys_fall_back() -> None:
    assert fast_dump({"": 1}) is None
    assert fast_dump({"a\nb": 1}) is None
    assert fast_dump({"k" * 150: 1}) is None


BLOCK_TEXTS = ["\n", "\n\n", "a\n", "a", "a\nb", "a\nb\n", "a\n\nb\n", "\na\n", "a\n\n", "a\n\n\n", " a\nb\n",
               "a\n b\n", "a\n\n\nb", "x\ny\nz\n", "🐱\nb\n", "  \nx\n", "a\nb\n\n"]


def test_block_texts_with_and_without_blank_lines_match_pyyaml() -> None:
    """The one-replace shortcut for blocks without blank lines writes what PyYAML writes, at any depth."""
    for value in BLOCK_TEXTS:
        for data in ({"k": value}, {"k": {"deeper": value}}, {"k": [value, {"x": value}]}):
            assert fast_dump(data) == dump_with_pyyaml(data), repr(value)
