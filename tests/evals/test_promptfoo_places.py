"""Every dropped item of a promptfoo import says where it is, and a drop repeated across tests is one line."""

from __future__ import annotations

from pathlib import Path

from test_export_kit import endpoints

from app.core.exports.promptfoo_import import import_promptfoo
from app.core.exports.promptfoo_places import compact, node_places

CONFIG = """\
prompts:
  - 'Say {{x}}'
providers:
  - openai:gpt-4o-mini
  - id: someplace:model-a
tests:
  - vars: {x: a}
    assert: [{type: javascript, value: output.length}]
  - vars: {x: b}
    assert: [{type: javascript, value: output.length}]
  - vars: {x: c}
    assert: [{type: javascript, value: output.length}]
  - vars: {x: d}
    unknown_key: 1
"""


def test_drops_name_the_line_and_column(tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    dropped = import_promptfoo(config, endpoints()).dropped
    provider = next(d for d in dropped if d.startswith("provider someplace:model-a"))
    assert provider.endswith("(at promptfooconfig.yaml:5:5)")
    unknown = next(d for d in dropped if "unknown_key" in d)
    assert unknown.startswith("test 4:") and unknown.endswith("(at promptfooconfig.yaml:13:5)")


def test_the_same_drop_in_many_tests_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    dropped = import_promptfoo(config, endpoints()).dropped
    javascript = [d for d in dropped if "javascript" in d]
    assert len(javascript) == 1
    assert javascript[0].startswith("tests 1-3: assertion javascript: kept disabled")
    assert javascript[0].endswith("(at promptfooconfig.yaml:7:5)")


def test_compact_keeps_rare_drops_and_order() -> None:
    lines = ["test 1: a", "provider p: b", "test 2: a", "test 5: c", "test 3: a", "test 9 (file://t.json): a"]
    assert compact(lines) == ["tests 1-3: a", "provider p: b", "test 5: c", "test 9 (file://t.json): a"]


def test_places_of_a_broken_file_are_empty() -> None:
    assert node_places("a: [") == {}
