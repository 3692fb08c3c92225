"""`load -> save` gives back the file byte for byte, for the examples and for generated documents."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings

from app.core.document import dumps_prototype, load_prototype, parse_prototype, save_prototype
from app.core.prototype import Case, Prototype, Turn

from .strategies import prototypes


def test_example_files_are_canonical(example_path: Path, tmp_path: Path) -> None:
    original = example_path.read_bytes()
    copy = tmp_path / example_path.name
    save_prototype(load_prototype(example_path), copy)
    assert copy.read_bytes() == original


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proto=prototypes())
def test_generated_documents_round_trip(proto: Prototype) -> None:
    text = dumps_prototype(proto)
    loaded = parse_prototype(text, "generated.yaml")
    assert loaded == proto
    assert dumps_prototype(loaded) == text
    assert "!!" not in text and "!<" not in text  # no tags, Python or otherwise
    assert "&" not in text.replace("&", "") or "*id" not in text  # no anchors/aliases emitted


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
    assert text == "protostudio: 1\nname: x\ndescription: d\ntags:\n  - a\n"


def test_role_and_form_factor_are_always_written() -> None:
    proto = parse_prototype("name: x\nprofiles:\n  - id: p\ncases:\n  - id: c\n    turns:\n      - content: hi\n")
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
    proto = parse_prototype("protostudio: 1\n" + source)
    assert dumps_prototype(proto) == "protostudio: 1\n" + source
