"""An eval run as a terminal table, JUnit XML (for CI dashboards) and JSON. Pure formatting."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from app.core.evals.summary import EvalSummary, Regression, Tally, failure_reasons
from app.core.evals.textchecks import one_line
from app.core.prototype import EvalRun


def percent(tally: Tally) -> str:
    rate = tally.rate
    return "–" if rate is None else f"{tally.passed}/{tally.total} {rate * 100:.0f}%"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def format_table(
    run: EvalRun, summary: EvalSummary, regressions: Sequence[Regression] = (), skipped: Sequence[str] = ()
) -> str:
    """The human report: overall, per variant, per assertion (with discrimination), failures, regressions."""
    main = sum(1 for r in run.results if not r.baseline)
    passed = sum(1 for r in run.results if not r.baseline and r.passed)
    head = f"eval {run.id}: pass rate {summary.pass_rate * 100:.1f}% ({passed}/{main} case runs)"
    if summary.baseline_pass_rate is not None:
        head += f"; prompted baseline {summary.baseline_pass_rate * 100:.1f}%"
    lines = [head, ""]
    variant_rows = [["variant", "pass rate", *(["baseline"] if summary.has_baseline else [])]]
    for v in summary.variants:
        variant_rows.append(
            [
                f"{v.profile} × {v.model}",
                percent(v.tally),
                *([percent(v.baseline)] if summary.has_baseline else []),
            ]
        )
    lines += _table(variant_rows)
    lines.append("")
    header = ["assertion", "pass rate"]
    if summary.has_baseline:
        header += ["baseline", "discrimination"]
    assertion_rows = [header]
    for a in summary.assertions:
        row = [one_line(a.label, 60), percent(a.tally)]
        if summary.has_baseline:
            disc = a.discrimination
            text = "–" if disc is None else f"{disc * 100:.0f}%"
            if a.not_discriminating:
                text += " not discriminating"
            row += [percent(a.baseline), text]
        assertion_rows.append(row)
    lines += _table(assertion_rows)
    if summary.failures:
        lines += ["", "failing cases:"]
        for f in summary.failures:
            lines.append(f"  {f.case} · {f.profile} × {f.model}")
            lines += [
                f"    - {one_line(reason, 140)}"
                for reason in f.reasons or ["the case score is under its threshold"]
            ]
    if regressions:
        lines += ["", f"regressions ({len(regressions)}):"]
        lines += [f"  {r}" for r in regressions]
    if skipped:
        lines += ["", f"not graded (no assertions): {', '.join(skipped)}"]
    return "\n".join(lines)


def junit_xml(run: EvalRun, summary: EvalSummary, suite_name: str) -> bytes:
    """JUnit XML: one <testsuite> per variant (plus baselines), one <testcase> per case."""
    root = ET.Element("testsuites", name=suite_name, tests="0", failures="0", errors="0")
    suites: dict[tuple[str, str, bool], ET.Element] = {}
    for result in run.results:
        key = (result.profile, result.model, result.baseline)
        suite = suites.get(key)
        if suite is None:
            name = f"{result.profile} × {result.model}" + (" (baseline)" if result.baseline else "")
            suite = ET.SubElement(
                root,
                "testsuite",
                name=name,
                tests="0",
                failures="0",
                errors="0",
                skipped="0",
                timestamp=run.created.rstrip("Z"),
            )
            suites[key] = suite
        case = ET.SubElement(
            suite, "testcase", name=result.case, classname=f"{suite_name}.{suite.get('name')}"
        )
        _bump(suite, "tests")
        _bump(root, "tests")
        if result.error:
            ET.SubElement(
                case, "error", message=one_line(result.error, 200), type="model-call"
            ).text = result.error
            _bump(suite, "errors")
            _bump(root, "errors")
        elif not result.passed:
            reasons = failure_reasons(result) or [f"score {result.score:.2f} is under the case threshold"]
            failure = ET.SubElement(case, "failure", message=one_line(reasons[0], 200), type="assertion")
            failure.text = "\n".join(reasons)
            _bump(suite, "failures")
            _bump(root, "failures")
        out = "\n".join(f"{'PASS' if a.passed else 'FAIL'} {a.type}: {a.reason}" for a in result.assertions)
        if out:
            ET.SubElement(case, "system-out").text = out
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _bump(element: ET.Element, attr: str) -> None:
    element.set(attr, str(int(element.get(attr, "0")) + 1))


def results_json(
    run: EvalRun,
    summary: EvalSummary,
    regressions: Sequence[Regression] = (),
    compared_to: str | None = None,
    skipped: Sequence[str] = (),
) -> dict[str, Any]:
    """Machine-readable results: the stored EvalRun plus the summary the table shows."""
    return {
        "eval": run.model_dump(mode="json", exclude_defaults=False),
        "pass_rate": summary.pass_rate,
        "baseline_pass_rate": summary.baseline_pass_rate,
        "variants": [
            {
                "profile": v.profile,
                "model": v.model,
                "passed": v.tally.passed,
                "total": v.tally.total,
                "baseline_passed": v.baseline.passed if summary.has_baseline else None,
            }
            for v in summary.variants
        ],
        "assertions": [
            {
                "assertion": a.ident,
                "label": a.label,
                "passed": a.tally.passed,
                "total": a.tally.total,
                "baseline_passed": a.baseline.passed if summary.has_baseline else None,
                "discrimination": a.discrimination,
                "not_discriminating": a.not_discriminating,
            }
            for a in summary.assertions
        ],
        "failures": [
            {"case": f.case, "profile": f.profile, "model": f.model, "reasons": f.reasons}
            for f in summary.failures
        ],
        "compared_to": compared_to,
        "regressions": [
            {
                "case": r.case,
                "profile": r.profile,
                "model": r.model,
                "passed_in": r.before,
                "reasons": r.reasons,
            }
            for r in regressions
        ],
        "not_graded": list(skipped),
    }
