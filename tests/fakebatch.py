"""A loopback fake of OpenAI's `/v1/files` and `/v1/batches`, scriptable for lifecycle tests.

It stores uploaded JSONL files, creates batches from them, and moves each batch one step
through `validating -> in_progress -> finalizing -> completed` per status request (`steps`).
Scripting: `answer(custom_id, body) -> str | None` gives each request's answer (None: that
request fails and goes to the error file); `fate` makes batches end `expired` (only the first
`partial` requests answered), `failed` (validation errors, no output) or stay `in_progress`
(`hold=True`). Every request is recorded; `created` counts batches created, so a test can
assert nothing was submitted twice.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Fate = Literal["complete", "expire", "fail"]


@dataclass
class FakeBatch:
    id: str
    input_file_id: str
    metadata: dict[str, str]
    status: str = "validating"
    polls: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    created_at: int = field(default_factory=lambda: int(time.time()))


class FakeBatchServer:
    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, FakeBatch] = {}
        self.requests: list[tuple[str, str]] = []
        self.answer: Callable[[str, dict[str, Any]], str | None] = lambda cid, body: (
            "Echo: " + _last_user(body)
        )
        self.fate: Fate = "complete"
        self.partial = 0
        self.steps = 2
        """Status requests spent in validating/in_progress before the batch ends."""
        self.hold = False
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def created(self) -> int:
        return len(self.batches)

    def __enter__(self) -> FakeBatchServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    def input_lines(self, batch_id: str) -> list[dict[str, Any]]:
        data = self.files[self.batches[batch_id].input_file_id].decode("utf-8")
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    # -- lifecycle --------------------------------------------------------------------------------

    def advance(self, batch: FakeBatch) -> None:
        """One status request's worth of progress."""
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return
        if batch.status == "cancelling":
            self._finish(batch, "cancelled", answered=batch.polls)
            return
        batch.polls += 1
        if self.fate == "fail":
            batch.status = "failed"
            return
        if batch.polls < self.steps or self.hold:
            batch.status = "in_progress" if batch.polls > 0 else "validating"
            return
        if self.fate == "expire":
            self._finish(batch, "expired", answered=self.partial)
        else:
            self._finish(batch, "completed", answered=None)

    def _finish(self, batch: FakeBatch, status: str, answered: int | None) -> None:
        lines = self.input_lines(batch.id)
        outputs: list[str] = []
        errors: list[str] = []
        for index, line in enumerate(lines):
            if answered is not None and index >= answered:
                continue
            text = self.answer(line["custom_id"], line["body"])
            if text is None:
                errors.append(
                    json.dumps(
                        {
                            "id": f"req_{index}",
                            "custom_id": line["custom_id"],
                            "response": {
                                "status_code": 400,
                                "body": {"error": {"message": "scripted failure", "code": "bad"}},
                            },
                            "error": None,
                        }
                    )
                )
            else:
                outputs.append(
                    json.dumps(
                        {
                            "id": f"req_{index}",
                            "custom_id": line["custom_id"],
                            "error": None,
                            "response": {"status_code": 200, "body": _completion(line["body"], text)},
                        }
                    )
                )
        batch.total = len(lines)
        batch.completed = len(outputs)
        batch.failed = len(errors)
        if outputs:
            batch.output_file_id = self.new_id("file")
            self.files[batch.output_file_id] = ("\n".join(outputs) + "\n").encode()
        if errors:
            batch.error_file_id = self.new_id("file")
            self.files[batch.error_file_id] = ("\n".join(errors) + "\n").encode()
        batch.status = status

    def view(self, batch: FakeBatch) -> dict[str, Any]:
        errors = None
        if batch.status == "failed":
            errors = {
                "object": "list",
                "data": [
                    {
                        "code": "invalid_request",
                        "message": "scripted validation failure",
                        "line": 1,
                        "param": None,
                    }
                ],
            }
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "errors": errors,
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": batch.status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": batch.created_at,
            "metadata": batch.metadata,
            "request_counts": {
                "total": batch.total or len(self.input_lines(batch.id)),
                "completed": batch.completed,
                "failed": batch.failed,
            },
        }


def _last_user(body: dict[str, Any]) -> str:
    users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
    return users[-1] if users else ""


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-batch",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": len(text.split()),
            "total_tokens": 10 + len(text.split()),
        },
    }


def _handler(server: FakeBatchServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def _send(self, status: int, payload: Any, *, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/octet-stream" if raw is not None else "application/json"
            )
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if server.api_key is None or self.headers.get("Authorization") == f"Bearer {server.api_key}":
                return True
            self._send(
                401,
                {"error": {"message": "bad key", "type": "invalid_request_error", "code": "invalid_api_key"}},
            )
            return False

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            server.requests.append(("GET", self.path))
            if not self._authorized():
                return
            with server._lock:
                if match := re.fullmatch(r"/v1/files/([\w-]+)/content", self.path):
                    data = server.files.get(match.group(1))
                    if data is None:
                        self._send(404, {"error": {"message": "no such file"}})
                    else:
                        self._send(200, None, raw=data)
                elif match := re.fullmatch(r"/v1/batches/([\w-]+)", self.path):
                    batch = server.batches.get(match.group(1))
                    if batch is None:
                        self._send(404, {"error": {"message": "no such batch"}})
                        return
                    server.advance(batch)
                    self._send(200, server.view(batch))
                elif self.path.split("?")[0] == "/v1/batches":
                    data = [server.view(b) for b in reversed(list(server.batches.values()))]
                    self._send(
                        200,
                        {
                            "object": "list",
                            "data": data,
                            "has_more": False,
                            "first_id": data[0]["id"] if data else None,
                            "last_id": data[-1]["id"] if data else None,
                        },
                    )
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            server.requests.append(("POST", self.path))
            body = self._body()
            if not self._authorized():
                return
            with server._lock:
                if self.path == "/v1/files":
                    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                        b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body
                    )
                    content = b""
                    for part in message.iter_parts():
                        if part.get_param("name", header="content-disposition") == "file":
                            content = part.get_payload(decode=True) or b""
                    file_id = server.new_id("file")
                    server.files[file_id] = content
                    self._send(
                        200,
                        {
                            "id": file_id,
                            "object": "file",
                            "bytes": len(content),
                            "created_at": 0,
                            "filename": "batch.jsonl",
                            "purpose": "batch",
                            "status": "processed",
                        },
                    )
                elif self.path == "/v1/batches":
                    data = json.loads(body or b"{}")
                    if data.get("input_file_id") not in server.files:
                        self._send(400, {"error": {"message": "unknown input file"}})
                        return
                    batch = FakeBatch(
                        server.new_id("batch"), data["input_file_id"], data.get("metadata") or {}
                    )
                    server.batches[batch.id] = batch
                    self._send(200, server.view(batch))
                elif match := re.fullmatch(r"/v1/batches/([\w-]+)/cancel", self.path):
                    batch = server.batches.get(match.group(1))
                    if batch is None:
                        self._send(404, {"error": {"message": "no such batch"}})
                        return
                    if batch.status not in ("completed", "failed", "expired", "cancelled"):
                        batch.status = "cancelling"
                    self._send(200, server.view(batch))
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

    return Handler
