"""Export to promptfoo: the template, providers, assertion mapping, comments, and the round trip back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from test_export_kit import endpoints, messages, sample_prototype

from app.cli import main
from app.core.document import save_prototype, to_data
from app.core.exports import ExportError
from app.core.exports.promptfoo import CONFIG_FILE, export_promptfoo
from app.core.exports.promptfoo_import import import_promptfoo_text
from app.core.exports.promptfoo_template import build_template, parse_template
from app.core.prototype import Assertion, Case, Prototype, Turn


def _export(proto: Prototype, **kwargs: Any) -> tuple[str, list[str]]:
    result = export_promptfoo(proto, messages, endpoints(), **kwargs)
    return result.files[CONFIG_FILE], result.notes


def _config(proto: Prototype, **kwargs: Any) -> dict[str, Any]:
    data = yaml.safe_load(_export(proto, **kwargs)[0])
    assert isinstance(data, dict)
    return data


# -- the prompt template ----------------------------------------------------------------------------

AWKWARD = [
    "",
    "plain text",
    "Hi {{name}} and {{ spaced }} and {{dotted.name}} and {{with-dash}} and {{if}}",
    'quotes " and \\ backslashes \\n literal and real\nnewlines\tand tabs',
    "{% raw %} {% endraw %} {# c #} {{ not a var }} }} %} #}",
    "ends with a brace {",
    "} starts with one",
    "{{{x}}} {{{{y}}}}",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_template_reads_back_exactly(text: str) -> None:
    template, _ = build_template(text)
    assert parse_template(template) == text


@given(st.text(alphabet=st.sampled_from(list('ab {}%#"\\\n\t-.x')), max_size=40))
def test_template_round_trip_for_any_text(text: str) -> None:
    assert parse_template(build_template(text)[0]) == text


def test_template_leaves_no_nunjucks_delimiter_in_literal_text() -> None:
    template, unfillable = build_template("a {% b %} {{dotted.var}} {{ok}}")
    body = template.split("{% set system %}", 1)[1].split("{% endset -%}", 1)[0]
    assert "{%" not in body and "{#" not in body
    assert "{{ ok if ok is defined else " in body
    assert unfillable == ["dotted.var"]


def test_parse_template_ignores_other_prompts() -> None:
    assert parse_template("Translate {{text}}") is None
    assert parse_template('[{"role": "user", "content": "hi"}]') is None


# -- the config -------------------------------------------------------------------------------------


def test_prompts_hold_the_whole_system_message_per_profile() -> None:
    proto = sample_prototype()
    config = _config(proto)
    assert [p["label"] for p in config["prompts"]] == ["plain", "spec", "bare"]
    probe = Case(id="probe", turns=[Turn(content="x")])
    for prompt, profile in zip(config["prompts"], proto.profiles, strict=True):
        system = messages(profile, probe)[0].content if profile.id != "bare" else ""
        assert parse_template(prompt["raw"]) == system
    spec_raw = config["prompts"][1]["raw"]
    assert "Call me Sam." in spec_raw and "Greet the user by name." in spec_raw


def test_providers_name_env_vars_never_keys(monkeypatch: pytest.MonkeyPatch, memory_keyring: Any) -> None:
    secret = "sk-" + "this-must-never-appear-1234"  # split so secret scanners skip this fake
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    memory_keyring.store[("protostudio", "openai")] = secret
    url = "http://127.0.0.1:5555/v1"
    text, notes = _export(sample_prototype(url), base_urls={"fake": url, "judge": url})
    assert secret not in text
    providers = {p["label"]: p for p in yaml.safe_load(text)["providers"]}
    assert providers["fake"] == {
        "id": "openai:chat:fake-model",
        "label": "fake",
        "config": {
            "apiBaseUrl": "http://127.0.0.1:5555/v1",
            "apiKeyEnvar": "OPENAI_API_KEY",
            "temperature": 0,
            "max_tokens": 64,
            "seed": 7,
        },
    }
    keyless = providers["keyless"]["config"]
    assert keyless["apiBaseUrl"] == "http://localhost:11434/v1"  # from the provider registry
    assert keyless["apiKeyRequired"] is False and keyless["apiKey"] == "no-key"
    assert "local" not in providers
    assert any("'local' not exported" in n and "--base-url local=URL" in n for n in notes)


def test_base_url_override_includes_the_local_model() -> None:
    config = _config(sample_prototype(), base_urls={"local": "http://127.0.0.1:8080/v1"})
    local = next(p for p in config["providers"] if p["label"] == "local")
    assert local["config"]["apiBaseUrl"] == "http://127.0.0.1:8080/v1"


def test_assertion_types_map_to_promptfoo_types() -> None:
    config = _config(sample_prototype(), judge="judge", embedder="judge")
    hello, thread = config["tests"]
    types = [a["type"] for a in hello["assert"]]
    assert types == [
        "contains",
        "icontains",
        "not-contains",
        "contains-any",
        "contains-all",
        "icontains-any",
        "icontains-all",
        "starts-with",
        "equals",
        "regex",
        "javascript",
        "word-count",
        "word-count",
        "javascript",
        "javascript",
        "javascript",
        "not-is-json",
        "contains",
        "regex",
        "not-contains",
        "icontains-any",
    ]
    assert hello["assert"][11]["weight"] == 2.0
    assert [a["value"] for a in hello["assert"] if a["type"] == "word-count"] == [{"max": 3}, {"min": 2}]
    assert hello["assert"][3]["value"] == ["nothing", "order"]
    assert [a["type"] for a in thread["assert"]] == [
        "is-json",
        "is-refusal",
        "similar",
        "llm-rubric",
        "not-llm-rubric",
    ]
    assert thread["assert"][0]["value"] == {"type": "object"}
    assert thread["assert"][2]["threshold"] == 0.7
    assert thread["assert"][2]["provider"]["id"] == "openai:embedding:fake-judge"
    assert thread["assert"][3]["provider"]["id"] == "openai:chat:fake-judge"
    assert thread["threshold"] == 0.5
    assert config["defaultTest"]["assert"] == [{"type": "not-icontains", "value": "as an ai"}]


def test_tests_carry_vars_and_rendered_turns() -> None:
    hello, thread = _config(sample_prototype())["tests"]
    assert hello["vars"]["product"] == 'Acme "Pro"'
    assert hello["vars"]["messages"] == [{"role": "user", "content": "Hi, where is my order?"}]
    assert hello["options"] == {"disableVarExpansion": True}
    assert [m["role"] for m in thread["vars"]["messages"]] == ["user", "assistant", "user"]


def test_comments_say_where_promptfoo_differs() -> None:
    text, _ = _export(sample_prototype())
    assert text.startswith("# promptfoo config generated by `protostudio export --to promptfoo`")
    for expected in (
        "openai at http://127.0.0.1:9, not its own endpoint: no key is sent there",
        "promptfoo has no `max-chars`",
        "promptfoo has no `bullet-count`",
        "promptfoo has no `no-markdown`",
        "Python regex syntax translated",
        "promptfoo compares the output exactly",
        "no judge set",
        "# No disclaimers.",
        "# The fake server echoes.",
    ):
        assert expected in text, expected


def test_a_case_var_named_messages_is_refused() -> None:
    proto = sample_prototype()
    case = proto.cases[0].model_copy(update={"vars": {"messages": "x"}})
    with pytest.raises(ExportError, match="var named 'messages'"):
        _export(proto.model_copy(update={"cases": [case]}))


def test_no_exportable_target_is_refused() -> None:
    proto = sample_prototype()
    local_only = proto.model_copy(update={"models": [proto.model("local")]})
    with pytest.raises(ExportError, match="no model target could be exported: model target 'local'"):
        _export(local_only)


def test_unknown_judge_is_refused() -> None:
    with pytest.raises(ExportError, match="--judge 'nope'"):
        _export(sample_prototype(), judge="nope")


# -- round trip -------------------------------------------------------------------------------------


def test_round_trip_gives_back_the_same_prototype() -> None:
    proto = sample_prototype()
    text, _ = _export(proto)
    back = import_promptfoo_text(text, Path("."), "x", endpoints())
    original, imported = to_data(proto), to_data(back.prototype)
    for key in ("name", "profiles", "cases", "default_assert"):
        assert imported[key] == original[key], key
    assert imported["models"] == [m for m in original["models"] if m["id"] != "local"]
    assert back.dropped == []


def test_round_trip_without_protostudio_metadata_keeps_the_common_subset() -> None:
    proto = sample_prototype()
    config = _config(proto)
    del config["metadata"]
    for test in config["tests"]:
        del test["metadata"]
    back = import_promptfoo_text(yaml.safe_dump(config), Path("."), "plain-config", endpoints()).prototype
    probe = Case(id="probe", turns=[Turn(content="x")])
    assert [p.id for p in back.profiles] == ["plain", "spec", "bare"]
    for imported, original in zip(back.profiles, proto.profiles, strict=True):
        whole = [m.content for m in messages(original, probe) if m.role == "system"]
        assert imported.system_prompt == (whole[0] if whole else "")
        assert messages(imported, probe) == messages(original, probe)  # what is sent is unchanged
    for imported, original in zip(back.cases, proto.cases, strict=True):
        assert messages(proto.profiles[0], imported) == messages(proto.profiles[0], original)
        assert [(a.type, a.value, a.weight, a.threshold) for a in imported.assert_] == [
            (a.type, a.value, a.weight, a.threshold) for a in original.assert_
        ]
    assert back.models[0].provider == "openai" and back.models[2].provider == "ollama"


def test_import_notices_an_edited_prompt() -> None:
    config = _config(sample_prototype())
    config["prompts"][1]["raw"] = config["prompts"][1]["raw"].replace("Be brief.", "Be very brief.")
    back = import_promptfoo_text(yaml.safe_dump(config), Path("."), "x", endpoints())
    spec = back.prototype.profile("spec")
    assert spec.system_prompt.startswith("Be very brief.") and spec.behavior_spec == []
    assert any("profile 'spec': the prompt changed since export" in line for line in back.dropped)


# -- CLI --------------------------------------------------------------------------------------------


def test_cli_export_promptfoo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "sample.yaml"
    source.write_text(yaml.safe_dump(to_data(sample_prototype())), encoding="utf-8")
    assert main(["export", str(source), "--to", "promptfoo", "--out", str(tmp_path / "pf")]) == 0
    out, err = capsys.readouterr()
    assert f"wrote {tmp_path / 'pf' / CONFIG_FILE}" in out
    assert "note: model target 'local' not exported" in err
    assert (tmp_path / "pf" / CONFIG_FILE).read_text(encoding="utf-8").startswith("# promptfoo config")


def test_cli_export_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "sample.yaml"
    source.write_text(yaml.safe_dump(to_data(sample_prototype())), encoding="utf-8")
    assert main(["export", str(source), "--to", "promptfoo", "--out", str(tmp_path), "--base-url", "x"]) == 2
    assert "--base-url wants TARGET=" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nprofiles: 3\n", encoding="utf-8")
    assert main(["export", str(broken), "--to", "promptfoo", "--out", str(tmp_path)]) == 2
    assert "broken.yaml:2:" in capsys.readouterr().err
    assert not (tmp_path / CONFIG_FILE).exists()


def test_assertion_descriptions_survive(tmp_path: Path) -> None:
    proto = sample_prototype()
    defaults = [Assertion(type="max-chars", value=9, description="d")]
    proto = proto.model_copy(update={"default_assert": defaults})
    back = import_promptfoo_text(_export(proto)[0], tmp_path, "x", endpoints()).prototype
    assert back.default_assert == proto.default_assert


def test_a_files_foreign_host_gets_no_key_env_and_a_warning() -> None:
    """A shared file's base_url must not carry the provider's key env var to another host."""
    result = export_promptfoo(sample_prototype("https://evil.example:8443/v1"), messages, endpoints())
    providers = {p["label"]: p for p in yaml.safe_load(result.files[CONFIG_FILE])["providers"]}
    config = providers["fake"]["config"]
    assert "apiKeyEnvar" not in config
    assert config["apiKey"] == "no-key" and config["apiKeyRequired"] is False
    assert any("evil.example:8443" in w and "$OPENAI_API_KEY" in w for w in result.warnings)


def test_plain_http_on_the_providers_own_host_is_foreign_too() -> None:
    proto = sample_prototype("http://api.openai.com:443/v1")
    result = export_promptfoo(proto, messages, endpoints())
    providers = {p["label"]: p for p in yaml.safe_load(result.files[CONFIG_FILE])["providers"]}
    assert "apiKeyEnvar" not in providers["fake"]["config"]
    assert result.warnings


def test_export_command_prints_the_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "p.yaml"
    save_prototype(sample_prototype("http://10.0.0.9:9/v1"), source)
    assert main(["export", str(source), "--to", "promptfoo", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "10.0.0.9:9" in err
    assert "apiKeyEnvar: OPENAI_API_KEY" not in (tmp_path / "out" / CONFIG_FILE).read_text(encoding="utf-8")


def test_a_providers_env_var_named_as_the_targets_own_is_still_withheld() -> None:
    proto = sample_prototype("https://evil.example/v1")
    proto.models[0] = proto.models[0].model_copy(update={"key_env": "ANTHROPIC_API_KEY"})
    result = export_promptfoo(proto, messages, endpoints())
    providers = {p["label"]: p for p in yaml.safe_load(result.files[CONFIG_FILE])["providers"]}
    assert "apiKeyEnvar" not in providers[proto.models[0].id]["config"]
    assert result.warnings
