"""`protostudio eval` end to end in a child process against the scriptable server: tables, files, exits."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from evals_kit import CliRunner
from fakeserver import FakeOpenAI, Reply

from app.core.document import load_prototype


def test_eval_passes_saves_the_run_and_writes_json_and_junit(
    proto_file: Path, cli: CliRunner, tmp_path: Path
) -> None:
    out_json, out_xml = tmp_path / "r.json", tmp_path / "r.xml"
    done = cli(
        "eval",
        str(proto_file),
        "--profile",
        "bullets",
        "--model",
        "fake",
        "--json",
        str(out_json),
        "--junit",
        str(out_xml),
        "--fail-under",
        "100%",
    )
    assert done.returncode == 0, done.stderr
    assert "pass rate 100.0% (2/2 case runs)" in done.stdout
    assert "bullets × fake" in done.stdout
    assert "running cells 2/2" in done.stderr and "grading 2/2" in done.stderr
    proto = load_prototype(proto_file)
    assert len(proto.evals) == 1 and proto.evals[0].pass_rate == 1.0
    assert len(proto.runs) == 2  # the outputs graded are kept as runs
    data = json.loads(out_json.read_text())
    assert data["eval"]["id"] == proto.evals[0].id
    assert data["pass_rate"] == 1.0
    root = ET.parse(out_xml).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "0"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "bullets × fake"
    assert [c.get("name") for c in suite.findall("testcase")] == ["colors", "fruits"]


def test_fail_under_exits_1_and_junit_lists_the_failure(
    proto_file: Path, cli: CliRunner, tmp_path: Path
) -> None:
    out_xml = tmp_path / "r.xml"
    done = cli("eval", str(proto_file), "--model", "fake", "--fail-under", "0.9", "--junit", str(out_xml))
    assert done.returncode == 1, done.stderr
    assert "pass rate 75.0%" in done.stdout  # plain profile: one sentence, so colors has 0 bullet points
    assert "colors · plain × fake" in done.stdout
    assert "has 0 bullet points, expected exactly 3" in done.stdout
    assert "under --fail-under 90.0%" in done.stderr
    failures = ET.parse(out_xml).getroot().findall("./testsuite/testcase/failure")
    assert len(failures) == 1
    assert failures[0].get("message") == "bullet-count: has 0 bullet points, expected exactly 3"
    assert cli("eval", str(proto_file), "--model", "fake", "--fail-under", "0.75").returncode == 0


def test_second_eval_reuses_runs_without_calling_the_model(
    proto_file: Path, cli: CliRunner, scripted: FakeOpenAI
) -> None:
    assert cli("eval", str(proto_file), "--model", "fake").returncode == 0
    calls = len(scripted.chat_requests())
    assert calls == 4
    again = cli("eval", str(proto_file), "--model", "fake")
    assert again.returncode == 0
    assert len(scripted.chat_requests()) == calls
    proto = load_prototype(proto_file)
    assert len(proto.evals) == 2 and len(proto.runs) == 4
    assert cli("eval", str(proto_file), "--model", "fake", "--no-cache").returncode == 0
    assert len(scripted.chat_requests()) == calls + 4


def test_regression_is_named_case_by_case_and_exits_1(
    proto_file: Path, cli: CliRunner, scripted: FakeOpenAI, tmp_path: Path
) -> None:
    first = cli("eval", str(proto_file), "--profile", "bullets", "--model", "fake")
    assert first.returncode == 0, first.stderr
    first_id = load_prototype(proto_file).evals[0].id
    scripted.responder = lambda rec: Reply(text="- red\n- green")
    out_json = tmp_path / "r.json"
    done = cli(
        "eval",
        str(proto_file),
        "--profile",
        "bullets",
        "--model",
        "fake",
        "--no-cache",
        "--compare-to",
        "last",
        "--json",
        str(out_json),
    )
    assert done.returncode == 1
    assert (
        f"regression: case 'colors' on bullets × fake passed in {first_id}, now: bullet-count: has 2 "
        "bullet points, expected exactly 3"
    ) in done.stderr
    assert "case 'fruits'" in done.stderr
    data = json.loads(out_json.read_text())
    assert [r["case"] for r in data["regressions"]] == ["colors", "fruits"]
    assert data["compared_to"] == first_id
    # comparing with the failing run itself finds no regression (nothing passed there)
    second_id = load_prototype(proto_file).evals[1].id
    same = cli("eval", str(proto_file), "--profile", "bullets", "--model", "fake", "--compare-to", second_id)
    assert same.returncode == 0, same.stderr
    assert "nothing was compared" not in same.stderr
    # a run over another variant shares no cell: said plainly, not a silent pass
    other = cli("eval", str(proto_file), "--profile", "plain", "--model", "fake", "--compare-to", second_id)
    assert f"warning: eval run {second_id} graded none of the same" in other.stderr


def test_baseline_reports_discrimination(proto_file: Path, cli: CliRunner, scripted: FakeOpenAI) -> None:
    done = cli(
        "eval", str(proto_file), "--profile", "bullets", "--model", "fake", "--baseline", "--json", "-"
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    rows = {a["assertion"]: a for a in data["assertions"]}
    assert rows["colors.assert[0]"]["discrimination"] == 1.0  # the baseline has no bullets
    assert not rows["colors.assert[0]"]["not_discriminating"]
    assert rows["fruits.assert[0]"]["not_discriminating"]  # the baseline names apple too
    assert rows["default_assert[0]"]["not_discriminating"]
    assert data["baseline_pass_rate"] == 0.5
    assert "not discriminating" in done.stderr  # the table goes to stderr when JSON takes stdout
    baseline_calls = [r for r in scripted.chat_requests() if r.messages[0]["role"] != "system"]
    assert len(baseline_calls) == 2
    stored = load_prototype(proto_file).evals[-1]
    assert stored.baseline_pass_rate == 0.5
    assert sum(r.baseline for r in stored.results) == 2


def test_bad_input_exits_2(proto_file: Path, cli: CliRunner, tmp_path: Path) -> None:
    text = proto_file.read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("type: icontains", "type: icontain"))
    done = cli("eval", str(bad))
    assert done.returncode == 2
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "type: icontains" in row)
    assert f"bad.yaml:{line}:" in done.stderr and "did you mean 'icontains'" in done.stderr
    assert "Known types:" in done.stderr

    assert "unknown profile 'nope'" in (r := cli("eval", str(proto_file), "--profile", "nope")).stderr
    assert r.returncode == 2
    r = cli("eval", str(proto_file), "--compare-to", "last")
    assert r.returncode == 2 and "no earlier eval run" in r.stderr
    r = cli("eval", str(proto_file), "--fail-under", "2")
    assert r.returncode == 2
    r = cli("eval", str(proto_file), "--judge", "nonsense")
    assert r.returncode == 2 and "neither a model target" in r.stderr
    empty = tmp_path / "empty.yaml"
    empty.write_text(
        "name: x\nprofiles: [{id: p}]\nmodels: [{id: m, provider: vllm, model: x}]\n"
        "cases: [{id: c, turns: [{content: hi}]}]\n"
    )
    r = cli("eval", str(empty))
    assert r.returncode == 2 and "no case has assertions" in r.stderr
    assert load_prototype(proto_file).evals == []  # nothing written on bad input


def test_failed_model_calls_count_as_failures(proto_file: Path, cli: CliRunner, scripted: FakeOpenAI) -> None:
    scripted.responder = lambda rec: Reply(status=404, message="no such model")
    done = cli("eval", str(proto_file), "--profile", "bullets", "--model", "fake", "--fail-under", "0.5",
               "--allow-errors")
    assert done.returncode == 1
    assert "the model call failed" in done.stdout
    assert load_prototype(proto_file).evals[0].results[0].error


def test_every_call_failing_exits_3_not_0(proto_file: Path, cli: CliRunner, scripted: FakeOpenAI) -> None:
    """Before exit 3 existed, an eval whose every call failed exited 0 when no gate was set."""
    scripted.responder = lambda rec: Reply(status=404, message="no such model")
    done = cli("eval", str(proto_file), "--model", "fake")
    assert done.returncode == 3, done.stderr
    assert "model calls failed" in done.stderr
    allowed = cli("eval", str(proto_file), "--model", "fake", "--allow-errors", "--no-cache")
    assert allowed.returncode == 0, allowed.stderr
    gated = cli("eval", str(proto_file), "--model", "fake", "--fail-under", "0.5", "--no-cache")
    assert gated.returncode == 3  # a failed call outranks the pass-rate gate: the rate is meaningless
