"""Import of ordinary promptfoo configs: the common subset comes in, everything else is named as dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_export_kit import endpoints

from app.cli import main
from app.core.document import load_prototype
from app.core.exports.promptfoo_import import ImportFailed, import_promptfoo

CONFIG = """\
description: Support bot checks
prompts:
  - file://prompts/support.json
  - file://prompts/extra.txt
  - file://prompts/builder.js
providers:
  - openai:gpt-4o-mini
  - id: openai:chat:llama3.1
    label: Local llama
    config:
      apiBaseUrl: http://localhost:11434/v1
      temperature: 0.2
      response_format: {type: json_object}
  - id: openai:chat:gpt-4o
    config:
      apiKey: sk-inline-never-copy
  - anthropic:messages:claude-3-5-haiku-latest
defaultTest:
  vars:
    tone: friendly
  assert:
    - type: not-icontains
      value: as an AI
    - type: cost
      threshold: 0.01
tests:
  - description: Where is my order
    vars:
      question: Where is my order?
      order_id: 1234
      rush: true
    assert:
      - type: icontains-any
        value: [order, shipment]
      - type: word-count
        value: {min: 3, max: 80}
      - type: llm-rubric
        value: Says when the order ships.
        provider: openai:chat:gpt-4o-mini
      - type: factuality
        value: It ships Monday.
      - type: javascript
        value: output.length > 3
  - vars:
      question: [a, b]
      other: hello
    assert:
      - type: is-json
        value: '{"type": "object", "required": ["answer"]}'
      - type: contains
        value: x
        transform: output.toUpperCase()
    threshold: 0.8
    options:
      provider: openai:gpt-4o
scenarios:
  - config: []
"""


def _write(tmp_path: Path, config: str = CONFIG) -> Path:
    prompts = tmp_path / "prompts"
    prompts.mkdir(exist_ok=True)
    (prompts / "support.json").write_text(
        '[{"role": "system", "content": "You are a {{tone}} support agent."},'
        ' {"role": "user", "content": "{{question}}"}]',
        encoding="utf-8",
    )
    (prompts / "extra.txt").write_text("{{question}}\n---\nAnswer briefly: {{question}}\n", encoding="utf-8")
    (prompts / "builder.js").write_text("module.exports = () => 'hi';\n", encoding="utf-8")
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def test_common_subset_comes_in(tmp_path: Path) -> None:
    result = import_promptfoo(_write(tmp_path), endpoints())
    proto = result.prototype
    assert proto.name == "Support bot checks"
    assert [(p.id, p.system_prompt, [t.content for t in p.turns]) for p in proto.profiles] == [
        ("support", "You are a {{tone}} support agent.", []),
        ("extra-1", "", []),
        ("extra-2", "", ["Answer briefly: {{question}}"]),
    ]
    assert [(m.id, m.provider, m.model, m.base_url, m.name) for m in proto.models] == [
        ("gpt-4o-mini", "openai", "gpt-4o-mini", None, ""),
        ("local-llama", "ollama", "llama3.1", None, "Local llama"),
        ("gpt-4o", "openai", "gpt-4o", None, ""),
        ("claude-3-5-haiku-latest", "anthropic", "claude-3-5-haiku-latest", None, ""),
    ]
    assert proto.models[1].params.temperature == 0.2
    assert proto.models[1].params.response_format == {"type": "json_object"}
    first, second, third = proto.cases
    assert first.description == "Where is my order"
    assert first.vars == {
        "tone": "friendly",
        "question": "Where is my order?",
        "order_id": "1234",
        "rush": "true",
    }
    assert [(t.role, t.content) for t in first.turns] == [("user", "{{question}}")]
    assert [(a.type, a.value, a.disabled) for a in first.assert_] == [
        ("icontains-any", ["order", "shipment"], False),
        ("min-words", 3, False),
        ("max-words", 80, False),
        ("llm-rubric", "Says when the order ships.", False),
        ("factuality", "It ships Monday.", True),
        ("javascript", "output.length > 3", True),
    ]
    assert first.assert_[3].judge == "gpt-4o-mini"
    # an array var expands into one case per value, as promptfoo does
    assert second.vars == {"tone": "friendly", "other": "hello", "question": "a"}
    assert third.vars == {"tone": "friendly", "other": "hello", "question": "b"}
    assert second.assert_[0].value == {"type": "object", "required": ["answer"]}
    assert (second.assert_[1].type, second.assert_[1].transform) == ("contains", "output.toUpperCase()")
    assert second.threshold == 0.8
    assert [(a.type, a.value) for a in proto.default_assert] == [
        ("not-icontains", "as an AI"), ("cost", 0.01)
    ]


def test_every_dropped_item_is_named(tmp_path: Path) -> None:
    dropped = import_promptfoo(_write(tmp_path), endpoints()).dropped
    expected = [
        "prompt file://prompts/builder.js: builder.js is a prompt function; Protostudio cannot run scripts",
        "provider openai:chat:gpt-4o: `apiKey` dropped",
        "test 1: assertion factuality: kept disabled (Protostudio has no such check)",
        "test 1: assertion javascript: kept disabled (custom JavaScript cannot run in Protostudio)",
    ]
    for line in expected:
        assert any(d.startswith(line) for d in dropped), f"missing: {line}\n" + "\n".join(dropped)
    assert len(dropped) == len(expected), "\n".join(dropped)


def test_text_prompts_become_user_turns(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "prompts: ['Translate to French: {{text}}']\nproviders: [openai:chat:gpt-4o-mini]\n"
        "tests:\n  - vars: {text: hello}\n    assert: [{type: icontains, value: bonjour}]\n",
        encoding="utf-8",
    )
    proto = import_promptfoo(path, endpoints()).prototype
    assert proto.profiles[0].system_prompt == ""
    assert proto.cases[0].turns[0].content == "Translate to French: {{text}}"
    assert proto.cases[0].id == "case-1"


def test_unsafe_yaml_is_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"prompts: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="not valid YAML"):
        import_promptfoo(path, endpoints())
    assert not marker.exists()


def test_config_without_prompts_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("providers: [openai:gpt-4o]\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="`prompts` is missing"):
        import_promptfoo(path, endpoints())


def test_cli_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _write(tmp_path)
    out = tmp_path / "imported.yaml"
    assert main(["import", "promptfoo", str(config), "--out", str(out)]) == 0
    stdout, stderr = capsys.readouterr()
    assert f"wrote {out}: 3 profiles, 4 model targets, 3 cases; 4 items dropped" in stdout
    assert stderr.count("dropped: ") == 4
    assert "sk-inline-never-copy" not in out.read_text(encoding="utf-8") + stdout + stderr
    assert load_prototype(out).cases[0].description == "Where is my order"
    assert main(["import", "promptfoo", str(config), "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(["import", "promptfoo", str(config), "--out", str(out), "--force"]) == 0


def test_cli_import_default_output_sits_beside_the_config(tmp_path: Path) -> None:
    config = _write(tmp_path)
    assert main(["import", "promptfoo", str(config)]) == 0
    assert (tmp_path / "promptfooconfig.protostudio.yaml").exists()


def test_cli_import_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "promptfoo", str(tmp_path / "nope.yaml")]) == 2
    assert f"file not found: {tmp_path / 'nope.yaml'}" in capsys.readouterr().err


def test_files_outside_the_config_folder_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private text", encoding="utf-8")
    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "c.yaml"
    path.write_text(
        "prompts: [file://../secret.txt, 'Hi {{x}}']\nproviders: [openai:gpt-4o]\n"
        "tests: [{vars: {x: file://../secret.txt}}]\n",
        encoding="utf-8",
    )
    result = import_promptfoo(path, endpoints())
    assert "private text" not in str(result.prototype.model_dump())
    assert sum("outside the config's folder" in line for line in result.dropped) == 2
    refused = "prompt file://../secret.txt: secret.txt could not be read"
    assert any(line.startswith(refused) for line in result.dropped)
    assert len(result.dropped) == 3


def test_vars_in_assertion_values_are_kept_for_the_grader(tmp_path: Path) -> None:
    """promptfoo fills a test's vars into assertion values; so does Protostudio, from the same text."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "prompts: ['Say hi to {{name}}']\nproviders: [openai:chat:gpt-4o-mini]\n"
        "tests:\n  - vars: {name: Priya}\n"
        "    assert: [{type: contains, value: '{{ name }}'},\n"
        "             {type: icontains-all, value: [hi, '{{name}}']}]\n",
        encoding="utf-8",
    )
    case = import_promptfoo(path, endpoints()).prototype.cases[0]
    assert [(a.type, a.value) for a in case.assert_] == [
        ("contains", "{{ name }}"), ("icontains-all", ["hi", "{{name}}"])
    ]


def test_a_protostudio_export_keeps_a_var_that_names_another(tmp_path: Path) -> None:
    """promptfoo fills `{{topic}}` inside a var; a Protostudio export's vars are sent as written."""
    from test_export_kit import messages

    from app.core.exports.promptfoo import CONFIG_FILE, export_promptfoo
    from app.core.prototype import Prototype

    proto = Prototype.model_validate({
        "name": "p",
        "profiles": [{"id": "a", "system_prompt": "Be brief."}],
        "models": [{"id": "m", "provider": "openai", "model": "gpt-4o-mini"}],
        "cases": [{"id": "c", "vars": {"sentence": "about {{topic}}", "topic": "bananas"},
                   "turns": [{"role": "user", "content": "Write {{sentence}}"}]}],
    })
    config = tmp_path / CONFIG_FILE
    config.write_text(export_promptfoo(proto, messages, endpoints()).files[CONFIG_FILE], encoding="utf-8")
    assert import_promptfoo(config, endpoints()).prototype.cases[0].vars["sentence"] == "about {{topic}}"
    plain = tmp_path / "plain.yaml"
    plain.write_text("prompts: ['Write {{sentence}}']\nproviders: [openai:gpt-4o-mini]\n"
                     "tests:\n  - vars: {sentence: 'about {{topic}}', topic: bananas}\n", encoding="utf-8")
    assert import_promptfoo(plain, endpoints()).prototype.cases[0].vars["sentence"] == "about bananas"
