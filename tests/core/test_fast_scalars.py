"""The pattern shortcuts for common scalars (plain text, ints, floats, timestamps, `|` blocks) agree
with PyYAML's writer byte for byte, and with the positioned loader's reading; new optional fields
need no change to either fast path."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from pydantic import Field

from app.core.document import dumps_prototype, parse_prototype, to_data
from app.core.errors import PrototypeError
from app.core.prototype import Prototype, Run
from app.core.yamlcanon import NotCanonical, read_canonical
from app.core.yamlfast import fast_dump
from app.core.yamlio import dump_with_pyyaml, load_located

from .test_yamlcanon import same

TRICKY: list[Any] = [
    "yes", "Yes", "NO", "off", "On", "y", "n", "null", "Null", "~", "", "true", "False", "falsey", "nullable",
    "1e3", "1E3", "1.5e-05", "0.1", "-0.5", "0.10", "-0", "+1", "007", "1_000", "0x1F", "0o17", ".5", ".inf",
    "2026-11-22T06:00:00Z", "2026-11-22", "2026-11-22 06:00:00", "12:30", "1:20:30",
    ": ", "a: b", "a:b", "a:", "a #b", "a#b", "#c", "- a", "-a", "? x", "!tag", "&a", "*a", "|", ">", "%x",
    "@x", "`x", "'quoted'", '"dq"', "it's", "trailing ", " leading", "tab\there", "café", "🐱 cat",
    "a\u2028b", "x\r\ny", "ünïcödé words", "ok ok", "Ok", "=", "<<", "[a]", "{a}", "a, b", "a [b]",
    "Hello, world!",
    "multi\nline\n", "multi\nline", "trailing space \nline\n", "\nstarts with a break\n", " indented\n",
    "ends\n\n", "\n", "emoji 🐱\nline\n", "tab\tin\nblock\n", "a\x85b\nc\n", "blank\n\nline\n",
    0, 1, -1, 10**17, 10**18, 10**19, -(10**18), 1.5, -1.5, 0.1, 1e-05, 1e16, 1.0, 2.0, 1e300, 123456.789,
    True, False, None,
]


@pytest.mark.parametrize("value", TRICKY, ids=[repr(v)[:30] for v in TRICKY])
def test_writer_matches_pyyaml_and_reader_matches_the_loader(value: Any) -> None:
    data = {"v": value, "l": [value, {"k": value}]}
    fast = fast_dump(data)
    assert fast is not None, "the fast writer should handle every plain value"
    assert fast == dump_with_pyyaml(data)
    try:
        read = read_canonical(fast)
    except NotCanonical:
        pytest.fail(f"the fast reader refused what the fast writer wrote: {fast!r}")
    assert same(read, load_located(fast).data)


@pytest.mark.parametrize("text", [
    "v: 1.50\n", "v: 2.0\n", "v: -0\n", "v: 007\n", "v: 'abc'\n", "v: 'hello world'\n",
    "v: yes\n", "v: a \n", "v: |\n  a \n  b\n", "v: |\n  a\n  \n  b\n", "v: |-\n  a\n", "v: |+\n  a\n",
    "v: |\n  \ta\n  b\n", "v: |2\n  a\n  b\n",
])
def test_shortcuts_do_not_accept_what_the_writer_writes_differently(text: str) -> None:
    with pytest.raises(NotCanonical):
        read_canonical(text)


def test_an_invalid_value_in_a_canonical_looking_file_keeps_its_position() -> None:
    source = "name: x\nmodels:\n  - id: m\n    provider: local\n    model: y\n"
    base = dumps_prototype(parse_prototype(source))
    text = base.replace("    model: y\n", "    model: y\n    params:\n      temperature: 9.5\n")
    read_canonical(text)  # the text is canonical; the value is out of range
    with pytest.raises(PrototypeError) as caught:
        parse_prototype(text, "f.yaml")
    assert str(caught.value.problems[0]).startswith("f.yaml:8:20: ")


class _RunWithProbe(Run):
    probe_notes: list[str] = Field(default_factory=list)
    origin: str | None = None


class _PrototypeWithProbe(Prototype):
    runs: list[_RunWithProbe] = Field(default_factory=list)  # type: ignore[assignment]


def test_a_new_optional_field_round_trips_through_both_fast_paths() -> None:
    """Another branch adds fields to the models: the fast writer and reader know no field list."""
    run = _RunWithProbe(id="r1", created="2026-11-22T06:00:00Z", profile="p", model="m", case="c",
                        output="two\nlines\n", probe_notes=["yes", "a: b", "ok"], origin="generated")
    proto = _PrototypeWithProbe(name="x", runs=[run])
    data = to_data(proto)
    text = fast_dump(data)
    assert text is not None and text == dump_with_pyyaml(data)
    assert "  probe_notes:\n  - 'yes'\n" not in text and "    probe_notes:\n      - 'yes'\n" in text
    again = _PrototypeWithProbe.model_validate(read_canonical(text))
    assert again.runs[0].probe_notes == ["yes", "a: b", "ok"]
    assert again.runs[0].origin == "generated"
    assert to_data(again) == data


def test_open_and_save_leave_the_cycle_collector_as_they_found_it() -> None:
    """Open and save pause Python's cycle collector for speed; it must come back on, errors included."""
    assert gc.isenabled()
    proto = parse_prototype("name: x\ntags: [a]\n")
    dumps_prototype(proto)
    with pytest.raises(PrototypeError):
        parse_prototype("name: [\n")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_prototype("name: x\n")
        assert not gc.isenabled(), "a caller that paused it keeps it paused"
    finally:
        gc.enable()
