"""`load -> save` gives back the file byte for byte, for the examples and for generated documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.document import dumps_prototype, load_prototype, parse_prototype, save_prototype
from app.core.prototype import Case, Prototype, Turn
from app.core.yamlio import dump, load_located

from .strategies import json_like, prototypes, text


def test_example_files_are_canonical(example_path: Path, tmp_path: Path) -> None:
    original = example_path.read_bytes()
    copy = tmp_path / example_path.name
    save_prototype(load_prototype(example_path), copy)
    assert copy.read_bytes() == original


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proto=prototypes())
def test_generated_documents_round_trip(proto: Prototype) -> None:
    text = dumps_prototype(proto)
    loaded = parse_prototype(text, "generated.yaml")
    assert loaded == proto
    assert dumps_prototype(loaded) == text
    assert_plain_yaml(text)


def assert_plain_yaml(text: str) -> None:
    """No tags and no anchors or aliases: every node in the output is a plain str/seq/map/scalar."""
    for node in _walk(yaml.compose(text, Loader=yaml.SafeLoader)):
        assert not node.tag.startswith("tag:yaml.org,2002:python"), node.tag
        assert node.tag.rsplit(":", 1)[-1] in {"str", "int", "float", "bool", "null", "seq", "map"}, node.tag
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        assert getattr(event, "anchor", None) is None, event
        assert not isinstance(event, yaml.AliasEvent)


def _walk(node: yaml.Node | None) -> list[yaml.Node]:
    if node is None:
        return []
    out = [node]
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out += _walk(key) + _walk(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            out += _walk(item)
    return out


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(text, json_like, max_size=3))
def test_any_text_and_values_survive_dump_and_load(value: dict[str, Any]) -> None:
    """Control characters, NEL and U+2028, leading spaces, `yes`/`null` look-alikes, nested data."""
    out = dump({"k": value})
    back = load_located(out).data
    assert back == {"k": value}
    assert dump(back) == out


def test_multi_line_text_is_a_block_literal_and_unicode_is_kept() -> None:
    proto = Prototype(
        name="Chat 🐱",
        profiles=[],
        cases=[Case(id="c1", turns=[Turn(content="Première ligne\nzweite Zeile\n猫です\n")])],
    )
    text = dumps_prototype(proto)
    assert "content: |\n          Première ligne\n          zweite Zeile\n          猫です\n" in text
    assert "name: Chat 🐱\n" in text
    assert "\\u" not in text and "\\U" not in text


def test_key_order_is_field_order_and_version_comes_first() -> None:
    text = dumps_prototype(Prototype(name="x", tags=["a"], description="d"))
    assert text == "protostudio: 2\nname: x\ndescription: d\ntags:\n  - a\n"


def test_role_and_form_factor_are_always_written() -> None:
    proto = parse_prototype(
        "name: x\nprofiles:\n  - id: p\ncases:\n  - id: c\n    turns:\n      - content: hi\n"
    )
    text = dumps_prototype(proto)
    assert "    form_factor: chat\n" in text
    assert "      - role: user\n        content: hi\n" in text


def test_python_objects_never_reach_the_file() -> None:
    proto = Prototype(name="x", cases=[Case(id="c", turns=[Turn(content="hi")])])
    proto.cases[0].assert_ = []
    text = dumps_prototype(proto)
    assert "!!python" not in text
    assert parse_prototype(text) == proto


def test_whole_numbers_stay_whole(tmp_path: Path) -> None:
    """`weight: 2` must not turn into `weight: 2.0` on the first save (a pointless diff)."""
    source = "name: x\ndefault_assert:\n  - type: max-words\n    value: 40\n    weight: 2\n"
    proto = parse_prototype("protostudio: 2\n" + source)
    assert dumps_prototype(proto) == "protostudio: 2\n" + source
