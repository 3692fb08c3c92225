"""DPO pairs from pairwise votes: the verdict decides chosen/rejected; ties and both-bad are skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_export_kit import messages, sample_prototype

from app.cli import main
from app.core.document import to_data
from app.core.exports.dpo import DPO_FILE, export_dpo
from app.core.prototype import Preference, Prototype, Run, RunStatus


def _run(run_id: str, profile: str, output: str, proto: Prototype, status: RunStatus = "ok") -> Run:
    case = proto.case("hello")
    return Run(
        id=run_id,
        created="2026-11-22T06:00:00Z",
        profile=profile,
        model="fake",
        case="hello",
        messages=messages(proto.profile(profile), case),
        output=output,
        status=status,
    )


def _voted() -> Prototype:
    proto = sample_prototype()
    runs = [
        _run("r-plain-1", "plain", "Your order ships Monday.", proto),
        _run("r-plain-2", "plain", "No idea.", proto),
        _run("r-spec", "spec", "Hi Sam! It ships Monday.", proto),
        _run("r-bad", "plain", "", proto, status="error"),
    ]
    prefs = [
        Preference(
            id="p-a", created="2026-11-22T06:01:00Z", a="r-plain-1", b="r-plain-2", verdict="a", blind=True
        ),
        Preference(
            id="p-b",
            created="2026-11-22T06:02:00Z",
            a="r-plain-2",
            b="r-plain-1",
            verdict="b",
            note="first is useless",
        ),
        Preference(id="p-x", created="2026-11-22T06:03:00Z", a="r-plain-1", b="r-spec", verdict="b"),
        Preference(id="p-tie", created="2026-11-22T06:04:00Z", a="r-plain-1", b="r-plain-2", verdict="tie"),
        Preference(
            id="p-bb", created="2026-11-22T06:05:00Z", a="r-plain-1", b="r-plain-2", verdict="both_bad"
        ),
        Preference(id="p-err", created="2026-11-22T06:06:00Z", a="r-plain-1", b="r-bad", verdict="a"),
    ]
    return proto.model_copy(update={"runs": runs, "preferences": prefs})


def _pairs(proto: Prototype) -> list[dict[str, Any]]:
    return [json.loads(line) for line in export_dpo(proto, messages).files[DPO_FILE].splitlines()]


def test_verdict_decides_chosen_and_rejected() -> None:
    first, second, third = _pairs(_voted())
    assert first["chosen"] == [{"role": "assistant", "content": "Your order ships Monday."}]
    assert first["rejected"] == [{"role": "assistant", "content": "No idea."}]
    assert second["chosen"][0]["content"] == "Your order ships Monday."  # verdict b, b = r-plain-1
    assert third["chosen"][0]["content"] == "Hi Sam! It ships Monday."


def test_prompt_is_what_was_sent() -> None:
    proto = _voted()
    first, _, cross = _pairs(proto)
    assert first["prompt"] == [m.model_dump(exclude_defaults=True) for m in proto.run("r-plain-1").messages]
    assert first["prompt"][0]["role"] == "system"
    assert cross["prompt"] == [{"role": "user", "content": "Hi, where is my order?"}]
    assert cross["metadata"]["system_differs"] is True


def test_metadata_keeps_blind_flag_and_note() -> None:
    first, second, _ = _pairs(_voted())
    assert first["metadata"]["blind"] is True and second["metadata"]["blind"] is False
    assert second["metadata"]["note"] == "first is useless"
    assert first["metadata"]["chosen_variant"] == "plain/fake"


def test_summary_counts_what_was_skipped() -> None:
    result = export_dpo(_voted(), messages)
    assert result.summary == "dpo: 3 pairs from 6 votes; skipped: 1 both bad, 1 failed or empty runs, 1 ties"


def test_runs_without_recorded_messages_are_rebuilt() -> None:
    proto = _voted()
    runs = [r.model_copy(update={"messages": []}) for r in proto.runs]
    first = _pairs(proto.model_copy(update={"runs": runs}))[0]
    assert first["prompt"] == [m.model_dump(exclude_defaults=True) for m in proto.run("r-plain-1").messages]


def test_cli_export_dpo_to_a_jsonl_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "voted.yaml"
    source.write_text(yaml.safe_dump(to_data(_voted())), encoding="utf-8")
    target = tmp_path / "out" / "pairs.jsonl"
    assert main(["export", str(source), "--to", "dpo", "--out", str(target)]) == 0
    assert f"wrote {target}" in capsys.readouterr().out
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert all(set(json.loads(line)) == {"prompt", "chosen", "rejected", "metadata"} for line in lines)
