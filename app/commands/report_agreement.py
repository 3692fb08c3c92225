"""`protostudio report FILE --agreement [--json]`: do the raters agree, and do the checks agree with them?

The numbers come from `app.core.agreement`, the same code the Results and Evals tabs show.
"""

from __future__ import annotations

import json
from typing import Any

from app.core.agreement import (
    CheckAgreement,
    PositionBias,
    RaterAgreement,
    check_agreement,
    position_bias,
    rater_agreement,
    reading,
)
from app.core.prototype import Prototype
from app.core.ratings import raters


def agreement_json(proto: Prototype, file: str) -> dict[str, Any]:
    return {
        "file": file,
        "raters": raters(proto),
        "between_raters": [_rater_json(a) for a in rater_agreement(proto)],
        "checks": [_check_json(c) for c in check_agreement(proto)],
        "position_bias": [_bias_json(b) for b in position_bias(proto)],
    }


def _rater_json(a: RaterAgreement) -> dict[str, Any]:
    return {"kind": a.kind, "method": a.method, "raters": list(a.raters), "value": a.value,
            "shared": a.shared, "reading": reading(a.value), "summary": a.summary}


def _check_json(c: CheckAgreement) -> dict[str, Any]:
    return {"check": c.key, "type": c.type, "kappa": c.value, "reading": reading(c.value), "shared": c.shared,
            "table": {"pass_up": c.pass_up, "pass_down": c.pass_down, "fail_up": c.fail_up,
                      "fail_down": c.fail_down},
            "flagged": c.flagged, "summary": c.summary}


def _bias_json(b: PositionBias) -> dict[str, Any]:
    return {"rater": b.rater, "left": b.left, "decisive": b.decisive, "left_share": b.share,
            "p_value": b.p_value, "biased": b.biased, "summary": b.summary}


def agreement_text(proto: Prototype) -> str:
    names = raters(proto)
    lines = [f"{proto.name}: agreement of {len(names)} rater(s): {', '.join(names) or 'nobody yet'}", ""]
    between = rater_agreement(proto)
    lines.append("Between raters")
    if not between:
        lines.append("  Needs at least two raters. Ask a teammate to rate (Settings → your name, or "
                     "`protostudio rate --rater NAME`).")
    for a in between:
        lines.append(f"  {a.kind:<6}  {' · '.join(a.raters)}: {a.summary}")
    checks = check_agreement(proto)
    lines += ["", "Model-graded checks against the team's thumbs"]
    if not checks:
        lines.append("  No model-graded or similarity check has graded a rated output yet "
                     "(`protostudio eval`).")
    for c in checks:
        flag = "⚠ " if c.flagged else ""
        lines.append(f"  {flag}{c.key} ({c.type}): {c.summary}")
        if c.shared:
            lines.append(f"      check pass: {c.pass_up:>3} 👍 {c.pass_down:>3} 👎")
            lines.append(f"      check fail: {c.fail_up:>3} 👍 {c.fail_down:>3} 👎")
    bias = position_bias(proto)
    lines += ["", "Position bias in blind A/B"]
    if not bias:
        lines.append("  No blind votes yet.")
    for b in bias:
        lines.append(f"  {b.rater}: {b.summary}")
    return "\n".join(lines)


def agreement_dumps(proto: Prototype, file: str) -> str:
    return json.dumps(agreement_json(proto, file), indent=2, ensure_ascii=False)
