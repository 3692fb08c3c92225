"""File › Import (promptfoo) opens a config as a new unsaved prototype; File › Export writes each format."""

from __future__ import annotations

from pathlib import Path

from app.core.exports.promptfoo import CONFIG_FILE

TIMEOUT = 20_000

CONFIG = """\
description: Imported in the app
prompts: ['Say hi to {{name}}', 'Greet {{name}} warmly']
providers: [openai:gpt-4o-mini, bedrock:some-model]
tests:
  - vars: {name: Ana}
    assert: [{type: icontains, value: ana}, {type: javascript, value: output.length < 99}]
"""


def test_import_then_export_every_format(qtbot, make_window, proto_file: Path, tmp_path: Path) -> None:
    window = make_window(proto_file)
    assert set(window.export_actions) == {"promptfoo", "openai-evals", "dpo"}
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    window.file_ops.ask_unsaved = lambda: "discard"
    window.interop.import_path(config)
    qtbot.waitUntil(lambda: window.document.proto.name == "Imported in the app", timeout=TIMEOUT)
    proto = window.document.proto
    assert [p.id for p in proto.profiles] == ["say-hi-to-name", "greet-name-warmly"]
    assert window.document.path is None
    assert "bedrock:some-model" in window.bar.text() and "kept disabled" in window.bar.text()

    for fmt in ("promptfoo", "openai-evals", "dpo"):
        out = tmp_path / fmt
        out.mkdir()
        window.interop.export_to(fmt, out)
        qtbot.waitUntil(lambda out=out: any(out.iterdir()), timeout=TIMEOUT)
        qtbot.waitUntil(
            lambda: "Wrote" in window.bar.text() or "failed" in window.bar.text(), timeout=TIMEOUT
        )
    assert "javascript" in (tmp_path / "promptfoo" / CONFIG_FILE).read_text(encoding="utf-8")


def test_a_broken_config_says_why_and_keeps_the_document(
    qtbot, make_window, proto_file: Path, tmp_path: Path
) -> None:
    window = make_window(proto_file)
    before = window.document.proto
    config = tmp_path / "bad.yaml"
    config.write_text("prompts: [file://missing.txt]\nproviders: [openai:gpt-4o]\n", encoding="utf-8")
    window.interop.import_path(config)
    qtbot.waitUntil(lambda: "Could not import" in window.bar.text(), timeout=TIMEOUT)
    assert "file not found: missing.txt" in window.bar.text()
    assert window.document.proto is before
