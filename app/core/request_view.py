"""What a cell actually sent, in plain words: the messages with every `{{var}}` filled in, the
params, the endpoint and the timings. Read from the stored run (what was really sent), never
rebuilt from the prototype as it is now, so an edited profile can't make it lie."""

from __future__ import annotations

import json

from app.core.placeholders import render_vars
from app.core.prototype import Case, Run
from app.core.simulation import case_label_text


def sent_user_message(run: Run | None, case: Case) -> str:
    """The last user message as sent (vars filled); from the case when there is no run to read."""
    if run is not None:
        users = [m.content for m in run.messages if m.role == "user"]
        if users:
            return users[-1]
    turns = [t.content for t in case.turns if t.role == "user"]
    return render_vars(turns[-1], case.vars) if turns else case_label_text(case)  # none: who writes it


def request_text(run: Run, *, endpoint: str) -> str:
    """The whole request and its timings, as plain text a person can read and copy."""
    params = run.params.model_dump(mode="json", exclude_none=True)
    lines = [
        f"Endpoint: {endpoint}",
        f"Provider: {run.provider or '?'} · model: {run.model_name or '?'}",
        f"Params: {json.dumps(params, ensure_ascii=False) if params else '(endpoint defaults)'}",
        "Timings: " + " · ".join(_timings(run)),
        f"Status: {run.status}" + (f" · {run.error}" if run.error else ""),
        "",
        f"Messages ({len(run.messages)}):",
    ]
    for message in run.messages:
        lines += ["", f"── {message.role} ──", message.content]
    return "\n".join(lines)


def _timings(run: Run) -> list[str]:
    parts = [f"sent {run.created}"]
    if run.ttft_ms is not None:
        parts.append(f"first token after {run.ttft_ms / 1000:.2f} s")
    if run.latency_ms is not None:
        parts.append(f"done after {run.latency_ms / 1000:.2f} s")
    usage = run.usage
    if usage.prompt_tokens is not None or usage.completion_tokens is not None:
        parts.append(f"{usage.prompt_tokens or 0} prompt + {usage.completion_tokens or 0} answer tokens")
    if run.cached:
        parts.append("answered from the cache")
    return parts
