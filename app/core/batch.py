"""The pure side of provider batches: request lines, reading output and error files, the batch price.

OpenAI's Batch API (and the compatible ones) takes a JSONL file of requests, each
`{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body": {...}}`, and answers
with an output file (one `{"custom_id", "response": {"status_code", "body"}}` per request that
got an answer) and an error file (requests that failed). The body is exactly what an interactive
run sends (model, messages, the target's params) minus streaming, so a batch answer is the same
answer, and is cached under the same key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.core import jsontext
from app.core.prototype import BatchJob

CHAT_URL = "/v1/chat/completions"
BATCH_PRICE_FACTOR = 0.5
"""Batch APIs charge about half the interactive price; costs of batch runs are scaled by this."""
COMPLETION_WINDOW = "24h"
MAX_REQUESTS = 50_000
"""OpenAI's limit per batch file; bigger plans are split into several batches."""


@dataclass(frozen=True)
class BatchAnswer:
    """One request's outcome: the answer, or `error` saying why there is none."""

    custom_id: str
    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None


def request_line(custom_id: str, model: str, messages: list[dict[str, str]], params: dict[str, Any]) -> str:
    """One JSONL line of a batch input file."""
    body = {"model": model, "messages": messages, **params}
    return json.dumps(
        {"custom_id": custom_id, "method": "POST", "url": CHAT_URL, "body": body},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def custom_id(job: BatchJob, index: int) -> str:
    """Unique within a provider account, so answers of an older batch can never be mistaken for these."""
    return f"{job.id}-{index}"


def custom_id_lines(text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(custom_id, object) per line of a batch results file (JSONL, both providers); blank, unreadable
    and id-less lines are skipped: one bad line must not lose the other answers."""
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = jsontext.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("custom_id"), str):
            yield item["custom_id"], item


def read_output(text: str) -> dict[str, BatchAnswer]:
    """custom_id -> answer, from an output file (or an error file: both have one JSON object a line)."""
    return {cid: _answer(item) for cid, item in custom_id_lines(text)}


def _answer(item: dict[str, Any]) -> BatchAnswer:
    cid = item["custom_id"]
    error = item.get("error")
    response: dict[str, Any] = item["response"] if isinstance(item.get("response"), dict) else {}
    body: dict[str, Any] = response["body"] if isinstance(response.get("body"), dict) else {}
    status = response.get("status_code")
    if error or (isinstance(status, int) and status >= 400):
        detail = error if isinstance(error, dict) else body.get("error")
        said = detail.get("message") if isinstance(detail, dict) else None
        code = detail.get("code") if isinstance(detail, dict) else None
        why = said or code or (f"HTTP {status}" if status else "the provider gave no answer")
        return BatchAnswer(cid, error=f"batch request failed: {why}")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return BatchAnswer(cid, error="batch answer has no choices")
    message: dict[str, Any] = choices[0]["message"] if isinstance(choices[0].get("message"), dict) else {}
    usage: dict[str, Any] = body["usage"] if isinstance(body.get("usage"), dict) else {}
    return BatchAnswer(
        cid,
        text=str(message.get("content") or ""),
        finish_reason=choices[0].get("finish_reason"),
        prompt_tokens=_int(usage.get("prompt_tokens")),
        completion_tokens=_int(usage.get("completion_tokens")),
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def batch_cost(interactive_cost: float | None) -> float | None:
    """What an answer cost through the batch API, from its interactive price (unknown stays unknown)."""
    return None if interactive_cost is None else round(interactive_cost * BATCH_PRICE_FACTOR, 10)


def pending_jobs(jobs: list[BatchJob], kind: str | None = None) -> list[BatchJob]:
    """Batches still to wait for or to collect, oldest first."""
    return [j for j in jobs if j.pending and (kind is None or j.kind == kind)]
