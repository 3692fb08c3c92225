"""The pure side of Anthropic's Message Batches: requests, results, statuses, and finding a batch again.

A Message Batch is created with its requests inline (`POST /v1/messages/batches`,
`{requests: [{custom_id, params}]}`, where `params` is a Messages API body) and answers with a
JSONL results file of `{custom_id, result: {type: succeeded|errored|canceled|expired, ...}}`.
The body is built from the same messages and params an interactive run sends: system messages
move to `system`, `stop` becomes `stop_sequences`, and `max_tokens`, which the Messages API
requires, is the target's or `DEFAULT_MAX_TOKENS`.

A Message Batch carries no metadata, so "never submit twice" rests on a `BatchIntent` saved
before the create request (time, request count, custom_ids digest): `adoption_candidates`
picks the batches a resumed run may adopt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.core.batch import BatchAnswer, custom_id_lines
from app.core.prototype import BatchIntent, ModelParams

MESSAGE_BATCH_PROVIDERS = frozenset({"anthropic"})
"""Providers whose targets batch through Anthropic's Message Batches instead of OpenAI's /batches."""
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
"""`max_tokens` for a target that sets none (the Messages API requires one)."""
CLOCK_SKEW = timedelta(minutes=10)
"""How far the provider's clock may be behind ours when matching `created_at` to an intent."""
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
"""Anthropic's `stop_reason` -> the finish reason interactive runs record (OpenAI's words)."""


def unsupported(params: ModelParams) -> str | None:
    """Why a target's params cannot go into a Message Batch as they are (None: they can)."""
    if params.response_format is not None:
        return "response_format has no Message Batches equivalent"
    if params.tools or params.tool_choice is not None:
        return "a target with tools needs a tool loop, which a batch cannot run"
    return None


def message_request(
    custom_id: str, model: str, messages: list[dict[str, str]], params: ModelParams
) -> dict[str, Any]:
    """One entry of `requests`: the Messages API body for this cell's messages and params.
    `seed` is left out: the Messages API has none (its OpenAI-compatible endpoint ignores it too)."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": params.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"],
    }
    if system:
        body["system"] = system
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.top_p is not None:
        body["top_p"] = params.top_p
    if params.stop:
        body["stop_sequences"] = list(params.stop)
    return {"custom_id": custom_id, "params": body}


def ids_digest(custom_ids: Iterable[str]) -> str:
    """The intent's fingerprint of which requests a batch holds."""
    return hashlib.sha256("\n".join(custom_ids).encode("utf-8")).hexdigest()


def new_intent(nonce: str, now: str, custom_ids: list[str]) -> BatchIntent:
    return BatchIntent(
        nonce=nonce, created_after=now, requests=len(custom_ids), digest=ids_digest(custom_ids)
    )


# -- what the provider says ------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """One batch as the list endpoint shows it."""

    batch_id: str
    created_at: datetime | None
    requests: int


def status_of(batch: dict[str, Any]) -> str:
    """Our status words (the OpenAI batch ones the rest of the app knows) for a Message Batch:
    in_progress, cancelling, then, once `ended`, cancelled (a cancel was asked), expired (some
    requests expired) or completed."""
    processing = batch.get("processing_status")
    if processing == "canceling":
        return "cancelling"
    if processing != "ended":
        return "in_progress"
    counts = counts_of(batch)
    if batch.get("cancel_initiated_at"):
        return "cancelled"
    if counts.get("expired", 0):
        return "expired"
    return "completed"


def counts_of(batch: dict[str, Any]) -> dict[str, int]:
    raw = batch.get("request_counts")
    counts = raw if isinstance(raw, dict) else {}
    return {k: v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}


def listed(batch: dict[str, Any]) -> Listed:
    created = parse_time(batch.get("created_at"))
    return Listed(str(batch.get("id", "")), created, sum(counts_of(batch).values()))


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def adoption_candidates(batches: Iterable[Listed], intent: BatchIntent, known: set[str]) -> list[str]:
    """Batches that may be the one `intent` created: made after it (less `CLOCK_SKEW`), with its
    request count, and not already recorded for another job of this file."""
    after = parse_time(intent.created_after)
    if after is None:
        return []
    since = after - CLOCK_SKEW
    return [
        b.batch_id
        for b in batches
        if b.created_at is not None and b.created_at >= since and b.requests == intent.requests
        and b.batch_id not in known
    ]


def listed_before(batch: Listed, intent: BatchIntent) -> bool:
    """True once the (newest-first) list has gone past the intent's time: no older page can match."""
    after = parse_time(intent.created_after)
    return after is not None and batch.created_at is not None and batch.created_at < after - CLOCK_SKEW


# -- results ---------------------------------------------------------------------------------------


@dataclass
class Results:
    """A results file read: answers and errors by custom_id, and every custom_id it named."""

    answers: dict[str, BatchAnswer] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    """Includes canceled and expired requests, which have no answer (sent again next time)."""


def read_results(text: str) -> Results:
    results = Results()
    for cid, item in custom_id_lines(text):
        results.seen.add(cid)
        result = item.get("result")
        answer = _answer(cid, result if isinstance(result, dict) else {})
        if answer is not None:
            results.answers[cid] = answer
    return results


def _answer(cid: str, result: dict[str, Any]) -> BatchAnswer | None:
    kind = result.get("type")
    if kind == "succeeded":
        message = result.get("message")
        if not isinstance(message, dict):
            return BatchAnswer(cid, error="batch answer has no message")
        blocks = message.get("content")
        text = "".join(
            str(b.get("text") or "") for b in (blocks if isinstance(blocks, list) else [])
            if isinstance(b, dict) and b.get("type") == "text"
        )
        usage: dict[str, Any] = message["usage"] if isinstance(message.get("usage"), dict) else {}
        reason = message.get("stop_reason")
        return BatchAnswer(
            cid,
            text=text,
            finish_reason=STOP_REASONS.get(reason, reason) if isinstance(reason, str) else None,
            prompt_tokens=_int(usage.get("input_tokens")),
            completion_tokens=_int(usage.get("output_tokens")),
        )
    if kind == "errored":
        return BatchAnswer(cid, error=f"batch request failed: {_error_text(result.get('error'))}")
    return None  # canceled, expired (or a type we do not know): no answer, sent again next time


def _error_text(error: Any) -> str:
    """`{type: error, error: {type, message}}` as documented; a flat `{type, message}` also reads."""
    inner = error.get("error") if isinstance(error, dict) and isinstance(error.get("error"), dict) else error
    if isinstance(inner, dict):
        said = inner.get("message") or inner.get("type")
        if said:
            return str(said)
    return "the provider gave no reason"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
