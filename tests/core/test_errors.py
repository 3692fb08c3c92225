"""Every class of bad input gets a PrototypeError naming `file:line:col` in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import document
from app.core.document import load_prototype, parse_prototype
from app.core.errors import Problem, PrototypeError
from app.core.prototype import FORMAT_VERSION

VALID = """\
protostudio: 1
name: Demo
profiles:
  - id: warm
    system_prompt: Be warm.
models:
  - id: local
    provider: local
    model: smollm2-135m-instruct
cases:
  - id: hello
    turns:
      - role: user
        content: How are you doing?
"""


def problems_of(text: str, name: str = "demo.yaml") -> list[str]:
    with pytest.raises(PrototypeError) as info:
        parse_prototype(text, name)
    return [str(p) for p in info.value.problems]


def only_problem(text: str) -> str:
    found = problems_of(text)
    assert len(found) == 1, found
    return found[0]


def test_the_valid_base_document_loads() -> None:
    assert parse_prototype(VALID).case("hello").turns[0].content == "How are you doing?"


def test_yaml_syntax_error_names_the_spot() -> None:
    text = VALID.replace("    system_prompt: Be warm.", "    system_prompt: Be warm: always.")
    message = only_problem(text)
    assert message.startswith("demo.yaml:5:27: YAML syntax error: ")
    assert "quotes" in message


def test_tab_indentation_is_explained() -> None:
    text = VALID.replace("  - id: warm", "\t- id: warm")
    assert only_problem(text) == (
        "demo.yaml:4:1: YAML syntax error: a tab character is used here; YAML indents with spaces only"
    )


def test_unclosed_quote() -> None:
    message = only_problem("name: 'Demo\ndescription: x\n")
    assert message.startswith("demo.yaml:1:7: YAML syntax error: a quote opened here is never closed")


def test_wrong_type_names_path_and_value() -> None:
    text = VALID.replace("    model: smollm2-135m-instruct", "    model: smollm2-135m-instruct\n"
                         "    params:\n      max_tokens: lots")
    assert only_problem(text) == (
        "demo.yaml:11:19: models[0].params.max_tokens: input should be a valid integer, "
        "unable to parse string as an integer (got 'lots')"
    )


def test_text_with_colon_read_as_mapping_gets_a_hint() -> None:
    text = VALID.replace("        content: How are you doing?", "        content:\n          q: How are you?")
    message = only_problem(text)
    assert message.startswith("demo.yaml:15:11: cases[0].turns[0].content: input should be a valid string")
    assert "must be quoted" in message


def test_unknown_key_with_did_you_mean() -> None:
    text = VALID.replace("    system_prompt: Be warm.", "    system_promt: Be warm.")
    assert only_problem(text) == (
        "demo.yaml:5:5: unknown key 'system_promt' in profiles[0]; did you mean 'system_prompt'?"
    )


def test_unknown_key_without_close_match_lists_allowed_keys() -> None:
    message = only_problem(VALID + "zebra: 1\n")
    assert message.startswith("demo.yaml:15:1: unknown key 'zebra' in the document; allowed keys: ")
    assert "profiles" in message


def test_missing_required_key() -> None:
    text = VALID.replace("    provider: local\n", "")
    assert only_problem(text) == "demo.yaml:7:5: missing required key 'provider' in models[0]"


def test_duplicate_ids() -> None:
    text = VALID + "  - id: hello\n    turns:\n      - content: again\n"
    assert only_problem(text) == (
        "demo.yaml:15:9: duplicate id 'hello' in cases (first used at cases[0])"
    )


def test_duplicate_rule_ids_within_a_profile() -> None:
    text = VALID.replace("    system_prompt: Be warm.", "    behavior_spec:\n      - id: r\n        rule: a\n"
                         "      - id: r\n        rule: b")
    assert only_problem(text) == (
        "demo.yaml:8:13: duplicate rule id 'r' in the behavior spec of profile 'warm'"
    )


def test_duplicate_yaml_keys_are_refused_not_overwritten() -> None:
    assert only_problem(VALID + "name: Other\n") == "demo.yaml:15:1: duplicate key 'name'"


def test_version_newer_than_known() -> None:
    message = only_problem(VALID.replace("protostudio: 1", "protostudio: 7"))
    assert message == (
        "demo.yaml:1:14: this file uses format version 7, but this app reads up to version "
        f"{FORMAT_VERSION}; "
        "update Protostudio to open it"
    )


@pytest.mark.parametrize("version", ["two", "0", "true", "1.5"])
def test_version_must_be_a_number(version: str) -> None:
    message = only_problem(VALID.replace("protostudio: 1", f"protostudio: {version}"))
    assert message.startswith("demo.yaml:1:14: `protostudio:` must be a format version number")


def test_several_problems_are_all_reported_in_file_order() -> None:
    text = VALID.replace("    system_prompt: Be warm.", "    system_promt: Be warm.").replace(
        "    provider: local\n", "    provider: local\n    modle: x\n")
    found = problems_of(text)
    assert [p.split(": ")[0] for p in found] == ["demo.yaml:5:5", "demo.yaml:9:5"]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    with pytest.raises(PrototypeError) as info:
        load_prototype(path)
    assert str(info.value) == f"{path}:1:1: file is empty; a prototype needs at least `name:`"


def test_only_comments_is_empty_too() -> None:
    assert only_problem("# nothing here\n\n").endswith("file is empty; a prototype needs at least `name:`")


def test_a_list_is_not_a_prototype() -> None:
    assert only_problem("- a\n- b\n") == (
        "demo.yaml:1:1: a prototype must be a mapping of keys such as `name:` and `profiles:`"
    )


def test_oversize_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # sparse: costs no disk and no time
        handle.truncate(document.MAX_FILE_BYTES + 1)
    with pytest.raises(PrototypeError) as info:
        load_prototype(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.col) == (str(path), 1, 1)
    assert "limited to 64 MiB" in problem.message


def test_python_object_tag_is_refused_and_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = VALID + f"description: !!python/object/apply:os.system ['touch {marker}']\n"
    message = only_problem(text)
    assert message.startswith("demo.yaml:15:14: the tag 'tag:yaml.org,2002:python/object/apply:os.system' "
                              "is not allowed")
    assert not marker.exists()


@pytest.mark.parametrize("tag", ["!!python/name:os.system", "!!binary aGk=", "!custom x", "!!set {a}",
                                 "!!timestamp 2026-01-01"])
def test_other_tags_are_refused(tag: str) -> None:
    assert "is not allowed in prototype files" in only_problem(VALID + f"description: {tag}\n")


def test_python_tag_on_a_key_is_refused() -> None:
    message = only_problem("? !!python/name:os.system\n: 1\nname: x\n")
    assert message.startswith("demo.yaml:1:3: the tag 'tag:yaml.org,2002:python/name:os.system'")


def test_non_utf8_file_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: Demo\ndescription: caf" + "é".encode("latin-1") + b"\n")
    with pytest.raises(PrototypeError) as info:
        load_prototype(path)
    assert str(info.value) == f"{path}:2:17: file is not UTF-8 text"


def test_control_characters_are_refused_with_position() -> None:
    assert only_problem("name: Demo\ndescription: a\x07b\n") == (
        "demo.yaml:2:15: YAML error: the file contains the control character '\\x07', "
        "which YAML does not allow"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PrototypeError) as info:
        load_prototype(tmp_path / "nope.yaml")
    assert "cannot read file" in str(info.value)


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(PrototypeError, match="cannot read file"):
        load_prototype(tmp_path)


def test_columns_count_characters_not_bytes() -> None:
    message = only_problem("name: héllo 🐱 猫\nnaem: x\n")
    assert message.startswith("demo.yaml:2:1: unknown key 'naem'")
    message = only_problem("name: 猫猫猫 a: b\n")
    assert message.startswith("demo.yaml:1:12: YAML syntax error")


def test_bom_is_accepted() -> None:
    assert parse_prototype("\ufeff" + VALID).name == "Demo"


def test_infinite_and_nan_numbers_are_refused() -> None:
    text = VALID.replace("    model: smollm2-135m-instruct", "    model: smollm2-135m-instruct\n"
                         "    params:\n      top_p: .nan")
    assert "finite number" in only_problem(text)


def test_error_type_carries_structured_problems() -> None:
    with pytest.raises(PrototypeError) as info:
        parse_prototype("name: [\n", "x.yaml")
    (problem,) = info.value.problems
    assert isinstance(problem, Problem)
    assert problem.file == "x.yaml" and problem.line >= 1 and problem.col >= 1


@pytest.mark.parametrize(
    "url", ["https://user:sk-abc@api.example.com/v1", "https://api.example.com/v1?api_key=sk-abc", "http://h/?token=x"]
)
def test_a_key_cannot_hide_in_base_url(url: str) -> None:
    """Refused, and the error message does not repeat the secret."""
    line = "    model: smollm2-135m-instruct"
    message = only_problem(VALID.replace(line, f"{line}\n    base_url: {url}"))
    assert message.startswith("demo.yaml:10:15: models[0].base_url: value error, base_url must not")
    assert "sk-abc" not in message and "token=x" not in message


def test_an_ordinary_base_url_is_fine() -> None:
    text = VALID.replace("    model: smollm2-135m-instruct",
                         "    model: smollm2-135m-instruct\n    base_url: http://127.0.0.1:11434/v1?format=json")
    assert parse_prototype(text).model("local").base_url == "http://127.0.0.1:11434/v1?format=json"
