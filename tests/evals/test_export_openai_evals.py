"""Export to the openai/evals registry format: specs that resolve, samples that are valid JSONL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_export_kit import messages, sample_prototype

from app.cli import main
from app.core.document import to_data
from app.core.exports import ExportError
from app.core.exports.openai_evals import INCLUDES, JSON_VALIDATOR, MATCH, MODEL_GRADED, export_openai_evals
from app.core.prototype import Prototype


def _files(proto: Prototype, **kwargs: Any) -> tuple[dict[str, str], list[str]]:
    result = export_openai_evals(proto, messages, **kwargs)
    return result.files, result.notes


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_registry_specs_resolve_to_sample_files() -> None:
    files, _ = _files(sample_prototype())
    specs = yaml.safe_load(files["evals/export-sample.yaml"])
    names = [k for k, v in specs.items() if "id" in v]
    assert names == yaml.safe_load(files["eval_sets/export-sample.yaml"])["export-sample"]["evals"]
    for name in names:
        spec = specs[specs[name]["id"]]
        assert specs[name]["id"] == f"{name}.dev.v0" and "." not in name
        assert spec["class"] in (MATCH, INCLUDES, MODEL_GRADED, JSON_VALIDATOR)
        assert f"data/{spec['args']['samples_jsonl']}" in files


def test_samples_are_jsonl_with_chat_input_and_ideal() -> None:
    proto = sample_prototype()
    files, _ = _files(proto)
    samples = [(path, row) for path, text in files.items() if path.endswith(".jsonl") for row in _jsonl(text)]
    assert samples
    for path, row in samples:
        assert isinstance(row["input"], list)
        assert all(set(m) == {"role", "content"} for m in row["input"])
        if "rubric" not in path:
            assert "ideal" in row
    includes = _jsonl(files["data/export-sample/plain-includes.jsonl"])
    hello = messages(proto.profile("plain"), proto.case("hello"))
    assert includes[0]["input"] == [m.model_dump(exclude_defaults=True) for m in hello]
    # the case's vars are filled in: openai/evals has no templating of its own
    assert [r["ideal"] for r in includes] == [
        ["Echo:"], ["nothing", "order"], ["Echo"], ["order"], ["where is my order"]
    ]
    ignore_case = _jsonl(files["data/export-sample/plain-includes-ignore-case.jsonl"])
    assert [r["ideal"] for r in ignore_case] == [
        ["ECHO"], ["ORDER"], ["HI"], ["WHERE"], ["zebra", "{{QUESTION}}", "where is my order"]
    ]
    kinds = {r["metadata"]["assertion"] for r in ignore_case}
    assert kinds == {"icontains", "icontains-any", "icontains-all"}
    specs = yaml.safe_load(files["evals/export-sample.yaml"])
    assert specs["export-sample-plain-includes-ignore-case.dev.v0"]["args"]["ignore_case"] is True
    match = _jsonl(files["data/export-sample/plain-match.jsonl"])
    assert [r["ideal"] for r in match] == [["Echo"], ["Echo: Hi, where is my order?"]]


def test_rubrics_become_model_graded_closedqa() -> None:
    files, _ = _files(sample_prototype())
    spec = yaml.safe_load(files["evals/export-sample.yaml"])["export-sample-spec-rubric-1.dev.v0"]
    assert spec["class"] == MODEL_GRADED
    assert spec["args"]["modelgraded_spec"] == "closedqa"
    criteria = spec["args"]["modelgraded_spec_args"]["criteria"]
    assert criteria == {"rubric": "rubric: Answers the second question."}


def test_unmapped_assertions_are_named_once() -> None:
    _, notes = _files(sample_prototype())
    assert "case 'hello': `not-contains` has no openai/evals basic template, not exported" in notes
    assert "case 'thread': `similar` has no openai/evals basic template, not exported" in notes
    assert any(n.startswith("case 'thread': threshold 0.5 ") and "not exported" in n for n in notes)
    assert not any("threshold" in n for n in notes if n.startswith("case 'hello'"))
    assert len(notes) == len(set(notes))


def test_profile_selection() -> None:
    files, _ = _files(sample_prototype(), profiles=["bare"])
    assert all("/bare-" in path for path in files if path.startswith("data/"))
    with pytest.raises(ExportError, match="no profile with id 'nope'"):
        _files(sample_prototype(), profiles=["nope"])


def test_cli_export_openai_evals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "sample.yaml"
    source.write_text(yaml.safe_dump(to_data(sample_prototype())), encoding="utf-8")
    assert main(["export", str(source), "--to", "openai-evals", "--out", str(tmp_path / "reg")]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "reg" / "evals" / "export-sample.yaml").exists()
    assert "openai-evals:" in out and "evals" in out
