"""A scriptable OpenAI-compatible HTTP server on loopback, with faults on demand.

Used by unit tests and benchmarks in place of a real provider. It speaks the real wire
protocol (SSE chat streams over chunked HTTP/1.1, `/v1/models`, `/v1/embeddings`), so the
code under test runs its real `openai` SDK path. Script it with `enqueue(Reply(...))` or a
`responder` callback; read back what it was sent from `requests`, and how many requests
overlapped from `max_in_flight`.

Run it standalone for manual tries or for promptfoo: `python tests/fakeserver.py --port 8765`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Fault = Literal["cut", "malformed", "hang", "drop", "cut_after_finish"] | None

_TOKEN_RE = re.compile(r"\s*\S+|\s+")


@dataclass
class Reply:
    """How the server answers one request.

    text: the answer (None: echo the last user message as "Echo: ...").
    ttft: seconds before the first token. tokens_per_s: stream rate (None: as fast as possible).
    status: HTTP status; non-200 sends an OpenAI-style error body with `code`.
    fault: "cut" closes the connection after `cut_after` tokens without finishing the stream;
    "malformed" sends broken SSE; "hang" accepts and never answers; "drop" closes at once;
    "cut_after_finish" sends every token and the finish reason, then closes without usage or [DONE].
    tool_calls: (name, arguments JSON) pairs streamed after the text as OpenAI `tool_calls` deltas
    (the arguments in a few fragments); the finish reason is then `tool_calls`.
    """

    text: str | None = None
    ttft: float = 0.0
    tokens_per_s: float | None = None
    status: int = 200
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    fault: Fault = None
    cut_after: int = 3
    finish_reason: str = "stop"
    usage: bool = True
    tool_calls: list[tuple[str, str]] | None = None


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    at: float = field(default_factory=time.monotonic)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


Responder = Callable[[Recorded], Reply | None]


def tokens_of(text: str) -> list[str]:
    """Split text into word-ish tokens; joined back they give the text exactly."""
    return _TOKEN_RE.findall(text)


def fake_embedding(text: str, dims: int = 64) -> list[float]:
    """A deterministic bag-of-words embedding: texts sharing words get similar vectors."""
    vec = [0.0] * dims
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vec[digest[0] % dims] += 1.0 if digest[1] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


class FakeOpenAI:
    """The server. Use as a context manager, or call `start()` and `stop()`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.models = ["fake-model", "fake-judge"]
        self.default = Reply()
        self.responder: Responder | None = None
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.tokens_sent = 0
        """Streamed content chunks written so far: tests wait on it instead of sleeping."""
        self._queues: dict[str | None, deque[Reply]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ----------------------------------------------------------------------------------

    def enqueue(self, *replies: Reply, model: str | None = None) -> None:
        """Answer the next requests (for `model`, or any model when None) with these replies, in order."""
        with self._lock:
            self._queues.setdefault(model, deque()).extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._queues.clear()
            self.requests.clear()
            self.in_flight = 0
            self.max_in_flight = 0
            self.tokens_sent = 0
            self.default = Reply()
            self.responder = None

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_reply(self, rec: Recorded) -> Reply:
        model = (rec.body or {}).get("model")
        with self._lock:
            for key in (model, None):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
        if self.responder is not None:
            reply = self.responder(rec)
            if reply is not None:
                return reply
        return self.default

    def _enter(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _make_handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as real servers do; else each SSE chunk can wait ~40 ms for an ACK

        def log_message(self, format: str, *args: Any) -> None:
            pass

        # -- plumbing -------------------------------------------------------------------------------

        def _record(self) -> Recorded:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            return Recorded(self.command, self.path, headers, body)

        def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, reply: Reply) -> None:
            codes = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}
            code = reply.code or codes.get(
                reply.status, "server_error"
            )
            message = reply.message or f"fake error {reply.status} ({code})"
            extra = {"retry-after": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
            self._leave_once()
            self._json(reply.status, {"error": {"message": message, "type": code, "code": code}}, extra)

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _authorized(self, rec: Recorded) -> bool:
            if server.api_key is None:
                return True
            if rec.authorization == f"Bearer {server.api_key}":
                return True
            self._error(Reply(status=401, message="Incorrect API key provided."))
            return False

        # -- routes ---------------------------------------------------------------------------------

        def do_GET(self) -> None:
            rec = self._record()
            server._enter(rec)
            self._left = False
            try:
                if not self._authorized(rec):
                    return
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": m, "object": "model", "owned_by": "fake"} for m in server.models]
                    self._json(200, {"object": "list", "data": data})
                else:
                    self._json(404, {"error": {"message": "not found", "code": "not_found"}})
            finally:
                self._leave_once()

        def do_POST(self) -> None:
            rec = self._record()
            server._enter(rec)
            self._left = False
            try:
                if not self._authorized(rec):
                    return
                if self.path.endswith("/embeddings"):
                    self._embeddings(rec)
                elif self.path.endswith("/chat/completions"):
                    self._chat(rec, server._next_reply(rec))
                else:
                    self._json(404, {"error": {"message": "not found", "code": "not_found"}})
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                self._leave_once()

        def _leave_once(self) -> None:
            """Leave the in-flight count once, as soon as the last bytes are about to go out.

            Counting a request as done *before* its final write means a client cannot start its
            next request while this one still counts: `max_in_flight` is exact, not racy.
            """
            if not getattr(self, "_left", True):
                self._left = True
                server._leave()

        def _embeddings(self, rec: Recorded) -> None:
            inputs = (rec.body or {}).get("input", "")
            items = [inputs] if isinstance(inputs, str) else list(inputs)
            data = [
                {"object": "embedding", "index": i, "embedding": fake_embedding(str(t))}
                for i, t in enumerate(items)
            ]
            usage = {"prompt_tokens": sum(len(tokens_of(str(t))) for t in items), "total_tokens": 0}
            model = (rec.body or {}).get("model")
            self._json(200, {"object": "list", "data": data, "model": model, "usage": usage})

        def _chat(self, rec: Recorded, reply: Reply) -> None:
            body = rec.body or {}
            if reply.fault == "hang":
                server._stopping.wait(600)
                return
            if reply.fault == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if reply.ttft:
                time.sleep(reply.ttft)
            if reply.status != 200:
                self._error(reply)
                return
            text = reply.text if reply.text is not None else _echo(body)
            tokens = tokens_of(text)
            model = body.get("model", "fake-model")
            prompt_tokens = sum(len(tokens_of(str(m.get("content", "")))) for m in body.get("messages", []))
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(tokens),
                     "total_tokens": prompt_tokens + len(tokens)}
            if not body.get("stream"):
                if reply.tokens_per_s and len(tokens) > 1:  # a server generates at the same rate either way
                    time.sleep((len(tokens) - 1) / reply.tokens_per_s)
                self._json(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": reply.finish_reason}],
                    "usage": usage if reply.usage else None,
                })
                return
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("cache-control", "no-cache")
            self.end_headers()
            self._stream(body, reply, tokens, usage, model)

        def _stream(self, body: dict[str, Any], reply: Reply, tokens: list[str], usage: dict[str, int],
                    model: str) -> None:
            def event(
                delta: dict[str, Any], finish: str | None = None, use: Any = None, choices: bool = True
            ) -> None:
                payload: dict[str, Any] = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                                           "created": int(time.time()), "model": model,
                                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
                                           if choices else []}
                if use is not None:
                    payload["usage"] = use
                self._chunk(f"data: {json.dumps(payload)}\n\n".encode())

            if reply.fault == "malformed":
                self._chunk(b'data: {"id": "chatcmpl-fake", "choices": [{"delta": {"content": "He\n\n')
                self._chunk(b"data: this is not json\n\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            event({"role": "assistant", "content": ""})
            start = time.monotonic()
            for index, token in enumerate(tokens):
                if reply.fault == "cut" and index >= reply.cut_after:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                if reply.tokens_per_s:
                    delay = start + index / reply.tokens_per_s - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                event({"content": token})
                with server._lock:
                    server.tokens_sent += 1
            for index, (name, arguments) in enumerate(reply.tool_calls or ()):
                call_id = f"call_fake_{len(server.requests)}_{index}"
                event({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                       "function": {"name": name, "arguments": ""}}]})
                step = max(1, len(arguments) // 3)
                for start_at in range(0, len(arguments), step):
                    event({"tool_calls": [{"index": index,
                                           "function": {"arguments": arguments[start_at:start_at + step]}}]})
            self._leave_once()
            finish = reply.finish_reason
            if reply.tool_calls and finish == "stop":
                finish = "tool_calls"
            event({}, finish=finish)
            if reply.fault == "cut_after_finish":
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            if reply.usage and (body.get("stream_options") or {}).get("include_usage"):
                event({}, use=usage, choices=False)
            self._chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


def _echo(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[-1].get("content", "") if users else ""
    if isinstance(content, list):  # text and image parts: echo the text
        texts = [part.get("text") for part in content if isinstance(part, dict)]
        content = " ".join(str(text) for text in texts if text)
    return f"Echo: {content}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake OpenAI-compatible server.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--ttft", type=float, default=0.0)
    parser.add_argument("--tokens-per-s", type=float, default=None)
    parser.add_argument("--text", default=None, help="fixed answer (default: echo the last user message)")
    args = parser.parse_args()
    server = FakeOpenAI(port=args.port)
    server.default = Reply(text=args.text, ttft=args.ttft, tokens_per_s=args.tokens_per_s)
    print(f"fake OpenAI server on {server.base_url}", flush=True)
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
