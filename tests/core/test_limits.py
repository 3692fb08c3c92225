"""Item-count limits: every reader stops at the first item past a limit and says where it is."""

from __future__ import annotations

import pytest

from app.core import limits, yamlio
from app.core.document import parse_prototype
from app.core.errors import PrototypeError
from app.core.yamlcanon import TooManyItems, read_canonical
from app.core.yamlio import YamlSyntaxError, check_item_limits, load_located

HEAD = "protostudio: 3\nname: x\n"


def problem(text: str) -> str:
    with pytest.raises(PrototypeError) as caught:
        parse_prototype(text, "p.yaml")
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


def block_tags(count: int, *, canonical: bool = True) -> str:
    head = HEAD if canonical else "# hand-edited\n" + HEAD
    return head + "tags:\n" + "".join(f"  - t{i}\n" for i in range(count))


def test_a_file_at_the_limit_loads() -> None:
    assert len(parse_prototype(block_tags(1_000)).tags) == 1_000


def test_canonical_file_past_the_limit_reports_the_first_item_too_many() -> None:
    # items start on line 4; item 1,001 is on line 1,004, its value after `  - `
    assert problem(block_tags(1_001)) == (
        "p.yaml:1004:5: `tags:` has more than 1,000 items; prototype files allow at most 1,000 here")


def test_the_slow_path_reports_the_same_item() -> None:
    text = block_tags(1_001, canonical=False)  # a comment: not what the app writes, so the positioned loader
    assert problem(text).startswith("p.yaml:1005:5: `tags:` has more than 1,000 items")


def test_flow_lists_are_counted_too() -> None:
    text = HEAD + "tags: [" + ", ".join(["a"] * 1_001) + "]\n"
    assert problem(text).startswith(f"p.yaml:3:{len('tags: [') + 1 + 3 * 1_000}: `tags:` has more than 1,000")


def test_a_huge_list_is_refused_before_it_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-scan must stop big texts at the crossing: composing them is what took a minute."""
    text = "# hand-edited\n" + HEAD + "tags: [" + ", ".join(["a"] * 200_000) + "]\n"
    assert len(text) > yamlio.PRESCAN_BYTES

    def no_compose(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("composed nodes for a file the pre-scan should have refused")

    monkeypatch.setattr(yamlio.yaml, "compose", no_compose)
    with pytest.raises(YamlSyntaxError) as caught:
        load_located(text)
    assert caught.value.mark.line == 4
    assert "`tags:` has more than 1,000 items" in caught.value.message


def test_limits_apply_by_the_key_that_holds_the_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(limits.MAX_ITEMS, "cases", 2)
    cases = "".join(f"  - id: c{i}\n    turns:\n      - role: user\n        content: hi\n" for i in range(3))
    text = HEAD + "cases:\n" + cases
    assert problem(text).startswith("p.yaml:12:5: `cases:` has more than 2 items")  # the third case's `id:`
    assert problem("# c\n" + text).startswith("p.yaml:13:5: `cases:` has more than 2 items")
    assert len(parse_prototype(HEAD + "cases:\n" + cases[: cases.index("  - id: c2")]).cases) == 2


def test_mappings_count_their_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "DEFAULT_MAX_ITEMS", 3)
    text = HEAD + "models:\n  - id: m\n    provider: local\n    model: x\n    base_url: http://h\n"
    assert problem(text).startswith("p.yaml:7:5: this list or mapping has more than 3 items")
    with pytest.raises(YamlSyntaxError) as caught:
        load_located("# c\n" + text)
    assert (caught.value.mark.line, caught.value.mark.col) == (8, 5)


@pytest.mark.parametrize("comment", ["", "# c\n"])
def test_the_whole_file_has_a_total(monkeypatch: pytest.MonkeyPatch, comment: str) -> None:
    monkeypatch.setattr(limits, "MAX_TOTAL_ITEMS", 10)
    text = comment + HEAD + "tags:\n" + "".join(f"  - t{i}\n" for i in range(20))
    # protostudio, name, tags and seven tags make ten; the eighth tag is one too many
    line = 3 + 8 + (1 if comment else 0)
    assert problem(text).startswith(f"p.yaml:{line}:5: the file has more than 10 list items and keys in all")


def test_pre_scan_and_builder_agree_on_the_total(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TOTAL_ITEMS", 10)
    text = "# c\n" + HEAD + "tags:\n" + "".join(f"  - t{i}\n" for i in range(20))
    with pytest.raises(YamlSyntaxError) as scanned:
        check_item_limits(text)
    with pytest.raises(YamlSyntaxError) as built:
        load_located(text)
    assert scanned.value.mark == built.value.mark
    assert scanned.value.message == built.value.message
    with pytest.raises(TooManyItems) as fast:
        read_canonical(text[len("# c\n"):])
    assert (fast.value.mark.line + 1, fast.value.mark.col) == (built.value.mark.line, built.value.mark.col)


def test_nested_lists_use_the_default_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "DEFAULT_MAX_ITEMS", 2)
    text = "a:\n  - - 1\n    - 2\n    - 3\n"
    with pytest.raises(TooManyItems) as fast:
        read_canonical(text)
    assert (fast.value.mark.line, fast.value.mark.col) == (4, 7)
    with pytest.raises(YamlSyntaxError) as slow:
        load_located(text)
    assert (slow.value.mark.line, slow.value.mark.col) == (4, 7)


def test_an_alias_item_past_the_limit_is_reported_where_the_alias_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not at its anchor, which may be far away and is not what crossed the limit."""
    monkeypatch.setitem(limits.MAX_ITEMS, "tags", 2)
    text = HEAD + "description: &d hello\ntags:\n  - a\n  - b\n  - *d\n"
    assert problem(text).startswith("p.yaml:7:5: `tags:` has more than 2 items")


def test_a_crossing_inside_an_alias_expansion_is_reported_at_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TOTAL_ITEMS", 12)
    # protostudio, name, cases, the case and its keys id/turns, the turn and its keys: 8 items by line 8;
    # the alias on line 9 expands to a case of 5 more items, the 13th of which crosses the total
    text = (HEAD + "cases:\n  - &c\n    id: a\n    turns:\n      - role: user\n        content: hi\n"
            "  - *c\n")
    assert problem(text).startswith("p.yaml:9:5: the file has more than 12 list items and keys in all")
