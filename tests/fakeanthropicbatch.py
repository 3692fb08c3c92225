"""A loopback fake of Anthropic's Message Batches (`/v1/messages/batches`), scriptable for lifecycle tests.

Batches are created with their requests inline and move from `in_progress` to `ended` after
`steps` status requests (or never, with `hold=True`). Scripting: `answer(custom_id, params) ->
str | None` gives each request's answer (None: an `errored` result); `expire_after=N` ends a batch
with only the first N requests answered and the rest `expired`; cancel makes the next status
request end it with the unanswered ones `canceled`. `results_base` points `results_url` at
another server. Every request is recorded with whether it carried the key, and `created` counts
batches created, so a test can assert nothing was submitted twice. `add_batch` makes a batch that
someone else created (for the "several candidates" case).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

VERSION = "2023-06-01"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class MessageBatch:
    id: str
    requests: list[dict[str, Any]]
    created_at: str = field(default_factory=_now)
    status: str = "in_progress"
    polls: int = 0
    cancel_initiated_at: str | None = None
    ended_at: str | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    had_key: bool
    version: str | None


class FakeAnthropicBatches:
    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.batches: dict[str, MessageBatch] = {}
        self.requests: list[Seen] = []
        self.answer: Callable[[str, dict[str, Any]], str | None] = lambda cid, params: (
            "Echo: " + _last_user(params)
        )
        self.steps = 2
        self.hold = False
        self.expire_after: int | None = None
        self.results_base: str | None = None
        self.created = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + "/v1/"

    def __enter__(self) -> FakeAnthropicBatches:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_batch(self, requests: int) -> MessageBatch:
        """A batch created by someone else in the same workspace (it counts in `created`)."""
        batch = MessageBatch(
            f"msgbatch_{next(self._ids):04d}",
            [{"custom_id": f"other-{i}", "params": {"messages": []}} for i in range(requests)],
        )
        self.batches[batch.id] = batch
        self.created += 1
        return batch

    # -- lifecycle --------------------------------------------------------------------------------

    def advance(self, batch: MessageBatch) -> None:
        if batch.status == "ended":
            return
        if batch.status == "canceling":
            self._end(batch, answered=batch.polls, rest="canceled")
            return
        batch.polls += 1
        if batch.polls < self.steps or self.hold:
            return
        answered = self.expire_after if self.expire_after is not None else len(batch.requests)
        self._end(batch, answered=answered, rest="expired")

    def _end(self, batch: MessageBatch, *, answered: int, rest: str) -> None:
        for index, request in enumerate(batch.requests):
            cid = request["custom_id"]
            if index >= answered:
                batch.results[cid] = {"type": rest}
                continue
            text = self.answer(cid, request["params"])
            if text is None:
                batch.results[cid] = {
                    "type": "errored",
                    "error": {"type": "error",
                              "error": {"type": "invalid_request_error", "message": "scripted failure"}},
                }
            else:
                batch.results[cid] = {"type": "succeeded", "message": _message(request["params"], text)}
        batch.status = "ended"
        batch.ended_at = _now()

    def view(self, batch: MessageBatch) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.status == "ended":
            for result in batch.results.values():
                counts[result["type"]] += 1
        else:
            counts["processing"] = len(batch.requests)
        results_url = None
        if batch.status == "ended":
            results_url = f"{self.results_base or self.origin}/v1/messages/batches/{batch.id}/results"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "ended_at": batch.ended_at,
            "created_at": batch.created_at,
            "expires_at": None,
            "archived_at": None,
            "cancel_initiated_at": batch.cancel_initiated_at,
            "results_url": results_url,
        }


def _last_user(params: dict[str, Any]) -> str:
    users = [m["content"] for m in params.get("messages", []) if m.get("role") == "user"]
    return users[-1] if users else ""


def _message(params: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "msg_batch",
        "type": "message",
        "role": "assistant",
        "model": params.get("model"),
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": len(text.split())},
    }


def _problem(params: Any) -> str | None:
    """What the real API would refuse in a request's params (so tests catch a wrong body)."""
    if not isinstance(params, dict):
        return "params: must be an object"
    for name in ("model", "max_tokens", "messages"):
        if name not in params:
            return f"params.{name}: Field required"
    if any(m.get("role") not in ("user", "assistant") for m in params["messages"]):
        return "messages: roles must be user or assistant (system goes in `system`)"
    return None


def _handler(server: FakeAnthropicBatches) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def _send(self, status: int, payload: Any = None, *, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/binary" if raw is not None else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, kind: str, message: str) -> None:
            self._send(status, {"type": "error", "error": {"type": kind, "message": message}})

        def _admitted(self, method: str) -> bool:
            key = self.headers.get("x-api-key")
            version = self.headers.get("anthropic-version")
            server.requests.append(Seen(method, self.path, key is not None, version))
            if server.api_key is not None and key != server.api_key:
                self._error(401, "authentication_error", "invalid x-api-key")
                return False
            if version != VERSION:
                self._error(400, "invalid_request_error", "anthropic-version header is required")
                return False
            return True

        def _batch(self, batch_id: str) -> MessageBatch | None:
            batch = server.batches.get(batch_id)
            if batch is None:
                self._error(404, "not_found_error", f"no message batch {batch_id}")
            return batch

        def do_GET(self) -> None:
            body_length = int(self.headers.get("Content-Length") or 0)
            if body_length:
                self.rfile.read(body_length)
            if not self._admitted("GET"):
                return
            url = urlsplit(self.path)
            with server._lock:
                if match := re.fullmatch(r"/v1/messages/batches/(\w+)/results", url.path):
                    if (batch := self._batch(match.group(1))) is None:
                        return
                    if batch.status != "ended":
                        self._error(400, "invalid_request_error", "batch has not ended")
                        return
                    lines = [json.dumps({"custom_id": cid, "result": result})
                             for cid, result in batch.results.items()]
                    self._send(200, raw=("\n".join(lines) + "\n").encode())
                elif match := re.fullmatch(r"/v1/messages/batches/(\w+)", url.path):
                    if (batch := self._batch(match.group(1))) is None:
                        return
                    server.advance(batch)
                    self._send(200, server.view(batch))
                elif url.path == "/v1/messages/batches":
                    query = parse_qs(url.query)
                    limit = int(query.get("limit", ["20"])[0])
                    newest_first = sorted(server.batches.values(), key=lambda b: (b.created_at, b.id),
                                          reverse=True)
                    if "after_id" in query:
                        ids = [b.id for b in newest_first]
                        start = ids.index(query["after_id"][0]) + 1
                        newest_first = newest_first[start:]
                    page = newest_first[:limit]
                    self._send(200, {
                        "data": [server.view(b) for b in page],
                        "has_more": len(newest_first) > limit,
                        "first_id": page[0].id if page else None,
                        "last_id": page[-1].id if page else None,
                    })
                else:
                    self._error(404, "not_found_error", f"no route {url.path}")

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self._admitted("POST"):
                return
            with server._lock:
                if self.path == "/v1/messages/batches":
                    data = json.loads(raw or b"{}")
                    requests = data.get("requests")
                    if not isinstance(requests, list) or not requests:
                        self._error(400, "invalid_request_error", "requests: at least one required")
                        return
                    for index, request in enumerate(requests):
                        if (problem := _problem(request.get("params"))) is not None:
                            self._error(400, "invalid_request_error", f"requests.{index}.{problem}")
                            return
                    batch = MessageBatch(f"msgbatch_{next(server._ids):04d}", requests)
                    server.batches[batch.id] = batch
                    server.created += 1
                    self._send(200, server.view(batch))
                elif match := re.fullmatch(r"/v1/messages/batches/(\w+)/cancel", self.path):
                    if (batch := self._batch(match.group(1))) is None:
                        return
                    if batch.status == "in_progress":
                        batch.status = "canceling"
                        batch.cancel_initiated_at = _now()
                    self._send(200, server.view(batch))
                else:
                    self._error(404, "not_found_error", f"no route {self.path}")

    return Handler
