"""The pure side of Anthropic Message Batches: request bodies, results, statuses, adoption candidates,
and the intent record on disk."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from app.core.document import dumps_prototype, parse_prototype
from app.core.message_batches import (
    CLOCK_SKEW,
    DEFAULT_MAX_TOKENS,
    Listed,
    adoption_candidates,
    ids_digest,
    message_request,
    new_intent,
    read_results,
    status_of,
    unsupported,
)
from app.core.prototype import BatchCell, BatchJob, ModelParams


def test_system_messages_move_to_system_and_params_map() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]
    params = ModelParams(temperature=0.2, top_p=0.9, seed=4, stop=["X"])
    request = message_request("job-0", "claude-x", messages, params)
    assert request == {
        "custom_id": "job-0",
        "params": {
            "model": "claude-x",
            "max_tokens": DEFAULT_MAX_TOKENS,
            "system": "Be brief.",
            "messages": messages[1:],
            "temperature": 0.2,
            "top_p": 0.9,
            "stop_sequences": ["X"],
        },
    }
    no_system = message_request("j", "m", messages[1:2], ModelParams(max_tokens=5))["params"]
    assert "system" not in no_system and no_system["max_tokens"] == 5


def test_params_a_batch_cannot_carry() -> None:
    assert unsupported(ModelParams()) is None
    assert "response_format" in (unsupported(ModelParams(response_format={"type": "json_object"})) or "")
    assert "tool" in (unsupported(ModelParams(tools=[{"type": "function"}])) or "")


def test_results_read_every_kind() -> None:
    lines = [
        {"custom_id": "a", "result": {"type": "succeeded", "message": {
            "content": [{"type": "text", "text": "Hel"}, {"type": "tool_use"},
                        {"type": "text", "text": "lo"}],
            "stop_reason": "max_tokens", "usage": {"input_tokens": 3, "output_tokens": 2}}}},
        {"custom_id": "b", "result": {"type": "errored", "error": {
            "type": "error", "error": {"type": "invalid_request_error", "message": "too long"}}}},
        {"custom_id": "c", "result": {"type": "expired"}},
        {"custom_id": "d", "result": {"type": "canceled"}},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n\n"
    results = read_results(text)
    assert results.seen == {"a", "b", "c", "d"}
    assert set(results.answers) == {"a", "b"}
    a = results.answers["a"]
    got = (a.text, a.finish_reason, a.prompt_tokens, a.completion_tokens, a.error)
    assert got == ("Hello", "length", 3, 2, None)
    assert results.answers["b"].error == "batch request failed: too long"


def test_statuses_in_the_words_the_app_knows() -> None:
    assert status_of({"processing_status": "in_progress"}) == "in_progress"
    assert status_of({"processing_status": "canceling"}) == "cancelling"
    ended = {"processing_status": "ended", "request_counts": {"succeeded": 2, "expired": 0}}
    assert status_of(ended) == "completed"
    assert status_of({**ended, "request_counts": {"succeeded": 1, "expired": 1}}) == "expired"
    assert status_of({**ended, "cancel_initiated_at": "2026-01-01T00:00:00Z"}) == "cancelled"


def test_adoption_candidates_match_time_size_and_unknown_ids() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    intent = new_intent("n", "2026-11-30T12:00:00Z", ["x-0", "x-1", "x-2"])
    assert intent.requests == 3 and intent.digest == ids_digest(["x-0", "x-1", "x-2"])
    batches = [
        Listed("fresh", now + timedelta(seconds=2), 3),
        Listed("skewed", now - CLOCK_SKEW + timedelta(seconds=1), 3),
        Listed("too-old", now - CLOCK_SKEW - timedelta(seconds=1), 3),
        Listed("other-size", now + timedelta(seconds=3), 4),
        Listed("known", now + timedelta(seconds=4), 3),
        Listed("no-time", None, 3),
    ]
    assert adoption_candidates(batches, intent, {"known"}) == ["fresh", "skewed"]


def test_the_intent_round_trips_and_old_jobs_stay_unchanged() -> None:
    text = (
        "protostudio: 3\nname: I\nprofiles: [{id: p}]\nmodels: [{id: a, provider: anthropic, model: c}]\n"
        "cases: [{id: c1, turns: [{content: hi}]}]\n"
    )
    proto = parse_prototype(text)
    job = BatchJob(id="batch-1", created="2026-11-30T12:00:00Z", model="a",
                   cells=[BatchCell(custom_id="batch-1-0", case="c1", profile="p", model="a")])
    proto.batches.append(job)
    without = dumps_prototype(proto)
    assert "intent" not in without
    job.intent = new_intent("intent-1", "2026-11-30T12:00:01Z", ["batch-1-0"])
    saved = dumps_prototype(proto)
    again = parse_prototype(saved)
    assert again.batches[0].intent == job.intent
    assert dumps_prototype(again) == saved
