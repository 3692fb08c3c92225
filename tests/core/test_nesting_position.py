"""Too-deep nesting is reported where it crosses the limit, not at 1:1."""

from __future__ import annotations

import pytest

from app.core.document import parse_prototype
from app.core.errors import PrototypeError
from app.core.yamlio import MAX_DEPTH


def _problem(text: str) -> str:
    with pytest.raises(PrototypeError) as info:
        parse_prototype(text, "t.yaml")
    return str(info.value.problems[0])


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 500])
def test_deep_block_sequence_is_reported_where_it_crosses_the_limit(depth: int) -> None:
    text = "name: x\ntags:\n" + "".join(f"{'  ' * i}-\n" for i in range(depth)) + "  " * depth + "x\n"
    # line 3 holds the tags list (depth 2 under the root mapping);
    # depth MAX_DEPTH + 1 is MAX_DEPTH - 1 lines further on
    line = 3 + MAX_DEPTH - 1
    assert _problem(text) == (f"t.yaml:{line}:{2 * (MAX_DEPTH - 1) + 1}: lists and mappings are nested "
                              f"more than {MAX_DEPTH} levels deep here")


def test_deep_flow_sequence_is_reported_where_it_crosses_the_limit() -> None:
    text = "name: x\ntags: " + "[" * 500 + "]" * 500 + "\n"
    assert _problem(text).startswith(f"t.yaml:2:{len('tags: ') + MAX_DEPTH}: lists and mappings are nested")


def test_depth_found_from_events_when_the_composer_gives_up() -> None:
    from app.core.yamlio import Mark, depth_mark

    text = "a:\n" + "".join(f"{'  ' * (i + 1)}- \n" for i in range(300))
    assert depth_mark(text) == Mark(2 + MAX_DEPTH - 1, 2 * (MAX_DEPTH - 1) + 3)


@pytest.mark.parametrize("opening", ["[", "{a: "])
@pytest.mark.parametrize("count", [50_000, 5_000])
def test_composer_stops_at_the_limit_whatever_libyaml_allows(opening: str, count: int) -> None:
    """libyaml 0.2.5 has no nesting limit and PyYAML's C composer recursed once per level in C:
    50,000 `[` overflowed the C stack and killed the process (seen in CI, PyYAML 6.0.3). libyaml
    0.2.6 stops at 1,000 with its own message. Either way the file gets ours, at the crossing."""
    import yaml

    from app.core import yamlio

    text = "name: " + opening * count + "\n"
    with pytest.raises((yamlio._NestedTooDeep, yaml.MarkedYAMLError)) as info:
        yaml.compose(text, Loader=yamlio._ParserClass)
    if isinstance(info.value, yaml.MarkedYAMLError):  # libyaml's own limit came first
        assert "maximum nesting depth" in str(info.value.problem)
    # the root mapping is level 1, so the 100th opening is level 101
    column = len("name: ") + 1 + len(opening) * (MAX_DEPTH - 1)
    assert _problem(text) == (f"t.yaml:1:{column}: lists and mappings "
                              f"are nested more than {MAX_DEPTH} levels deep here")


def test_the_python_composer_stops_at_the_same_limit() -> None:
    import yaml

    from app.core import yamlio

    with pytest.raises(yamlio._NestedTooDeep):
        yaml.compose("[" * 2_000 + "]" * 2_000, Loader=yamlio._PyLoader)
    assert yaml.compose("[" * 50 + "]" * 50, Loader=yamlio._PyLoader) is not None
