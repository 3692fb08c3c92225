"""The bundled model's child process: a minimal OpenAI-compatible HTTP server on loopback.

Run by `LocalModel` as `python -m app.providers.local_server --port 0 --model PATH`. It runs in its
own process because llama.cpp is native code: if it crashes (it has segfaulted on this machine
class), only this child dies, the app gets a connection error and restarts the child on next use.

Routes: POST /v1/chat/completions (SSE streaming or not), GET /v1/models, POST /v1/embeddings,
GET /health. One request is served at a time (a lock); others wait their turn and never fail for
being concurrent. A client that disconnects mid-stream stops the generation. When ready, the server
prints `PROTOSTUDIO_LOCAL_READY port=N` on stdout; it exits when stdin closes (its parent is gone).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from app.providers.model_files import LOCAL_MODEL_ID, bundled_model_path

READY_PREFIX = "PROTOSTUDIO_LOCAL_READY"
DEFAULT_N_CTX = 2048
EMBEDDING_N_CTX = 512  # inputs longer than this are truncated, as llama.cpp does
THREADS_ENV = "PROTOSTUDIO_LOCAL_THREADS"
# A 135M model sometimes loops ("I'm glad you're here, and I'm glad you're here..."). Without a cap it
# would run to the end of the context (about 2 minutes), so an unset max_tokens means this many; a
# mild repeat penalty makes the loops rarer. Requests cannot set it (it is not an OpenAI parameter).
DEFAULT_MAX_TOKENS = 512
GENERATION_DEFAULTS: dict[str, Any] = {"repeat_penalty": 1.1}
_LOAD_LOCK = threading.Lock()


class BadRequest(Exception):
    """The request cannot be served; becomes an OpenAI-style error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# -- loading the model -------------------------------------------------------------------------------


def cpu_cores() -> int:
    """Cores this process may run on (not the machine's total, which containers often misreport)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """llama.cpp threads: $PROTOSTUDIO_LOCAL_THREADS, else half the cores (llama-cpp-python's own default).

    llama.cpp's threads meet at a spinning barrier many times per token. When any other process
    wants a core (the app itself, a GUI, a test run), a descheduled thread stalls its partners:
    on 2 shared cores, 2 threads fell to 2-5 tokens/s where 1 thread kept 30-50. Half the cores
    also avoids hyper-threaded siblings. bench/README.md ("Local model") has the figures.
    """
    try:
        return max(1, int(os.environ.get(THREADS_ENV, "")))
    except ValueError:
        return max(1, cpu_cores() // 2)


@contextlib.contextmanager
def _without_extra_buffer_types() -> Iterator[None]:
    """Load with llama.cpp's `use_extra_bufts = False`.

    The extra CPU buffer types (AMX / weight repacking) segfault on this machine class as soon as a
    prompt longer than one token is decoded. llama-cpp-python has no `Llama(...)` argument for the
    field, but `Llama.__init__` starts from `llama_model_default_params()`, so we hand it defaults
    with the field cleared for the duration of the load.
    """
    import llama_cpp.llama_cpp as lib

    original = lib.llama_model_default_params

    def defaults() -> Any:
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    with _LOAD_LOCK:
        lib.llama_model_default_params = defaults
        try:
            yield
        finally:
            lib.llama_model_default_params = original


def load_llama(model_path: Path, *, n_ctx: int = DEFAULT_N_CTX, embedding: bool = False,
               threads: int | None = None) -> Any:
    """A `llama_cpp.Llama` with the app's parameters. The benchmark uses this too, so both match."""
    import llama_cpp

    cores = threads or default_threads()
    kwargs: dict[str, Any] = {
        "model_path": str(model_path),
        "n_ctx": n_ctx,
        "n_threads": cores,
        "n_threads_batch": cores,
        "verbose": False,
    }
    if embedding:
        kwargs.update(embedding=True, n_batch=n_ctx, n_ubatch=n_ctx,
                      pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)
    with _without_extra_buffer_types():
        return llama_cpp.Llama(**kwargs)


# -- requests ----------------------------------------------------------------------------------------


def _flatten_content(content: Any) -> str:
    """OpenAI message content is a string or a list of parts; the small model only reads text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            else:
                raise BadRequest(400, "unsupported_content", "The local model only accepts text content.")
        return "".join(parts)
    raise BadRequest(400, "invalid_request_error", "Message content must be a string or a list of text parts")


def _number(body: dict[str, Any], name: str, kind: type, low: float, high: float) -> Any:
    value = body.get(name)
    if value is None:
        return None
    wrong_kind = kind is int and not isinstance(value, int)
    if isinstance(value, bool) or not isinstance(value, int | float) or wrong_kind:
        raise BadRequest(400, "invalid_request_error", f"`{name}` must be a {kind.__name__}.")
    if not low <= value <= high:
        raise BadRequest(400, "invalid_request_error", f"`{name}` must be between {low} and {high}.")
    return kind(value)


@dataclass
class ChatRequest:
    """A validated /v1/chat/completions body, as llama-cpp-python arguments."""

    messages: list[dict[str, str]]
    stream: bool = False
    include_usage: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ChatRequest:
        model = body.get("model")
        if model is not None and model != LOCAL_MODEL_ID:
            raise BadRequest(404, "model_not_found",
                             f"The local provider serves only `{LOCAL_MODEL_ID}`, not `{model}`.")
        raw = body.get("messages")
        if not isinstance(raw, list) or not raw:
            raise BadRequest(400, "invalid_request_error", "`messages` must be a non-empty list.")
        messages = []
        for message in raw:
            if not isinstance(message, dict) or message.get("role") not in {"system", "user", "assistant",
                                                                              "developer"}:
                raise BadRequest(400, "invalid_request_error",
                                 "Each message needs a role of system, user or assistant.")
            role = "system" if message["role"] == "developer" else message["role"]
            messages.append({"role": role, "content": _flatten_content(message.get("content"))})
        if body.get("tools") or body.get("functions"):
            raise BadRequest(400, "unsupported_parameter", "The local model does not support tool calls.")
        if (body.get("n") or 1) != 1:
            raise BadRequest(400, "unsupported_parameter", "The local model returns one choice (`n` = 1).")

        params: dict[str, Any] = dict(GENERATION_DEFAULTS)
        for name, kind, low, high in (("temperature", float, 0.0, 2.0), ("top_p", float, 0.0, 1.0),
                                      ("presence_penalty", float, -2.0, 2.0),
                                      ("frequency_penalty", float, -2.0, 2.0)):
            value = _number(body, name, kind, low, high)
            if value is not None:
                params[name] = value
        max_tokens = _number(body, "max_completion_tokens", int, 1, 1_000_000)
        max_tokens = max_tokens or _number(body, "max_tokens", int, 1, 1_000_000)
        params["max_tokens"] = max_tokens or DEFAULT_MAX_TOKENS
        seed = _number(body, "seed", int, -(2**63), 2**64)
        # No seed means a fresh one: llama-cpp-python would otherwise derive the same one every time.
        params["seed"] = seed % 2**32 if seed is not None else random.SystemRandom().randrange(2**32)
        stop = body.get("stop")
        if stop is not None:
            stops = [stop] if isinstance(stop, str) else stop
            if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
                raise BadRequest(400, "invalid_request_error", "`stop` must be a string or a list of strings")
            params["stop"] = stops
        options = body.get("stream_options") or {}
        include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
        return cls(messages, stream=bool(body.get("stream")), include_usage=include_usage, params=params)


# -- the model, served one request at a time ---------------------------------------------------------


class Engine:
    """The loaded model and the lock that makes requests take turns."""

    def __init__(self, model_path: Path, n_ctx: int = DEFAULT_N_CTX, threads: int | None = None) -> None:
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.threads = threads
        self.lock = threading.Lock()
        self.llm = load_llama(model_path, n_ctx=n_ctx, threads=threads)
        self._prompt_formatter = self._make_prompt_formatter()
        self._embedder: Any = None
        self.stats = {"streams_completed": 0, "streams_abandoned": 0}  # shown by GET /health

    def _make_prompt_formatter(self) -> Any:
        """The chat template llama-cpp-python applies; used only to count prompt tokens for streams."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None

        def token_text(token: int) -> str:
            return self.llm.detokenize([token], special=True).decode("utf-8", "ignore") if token >= 0 else ""

        return Jinja2ChatFormatter(template=template, eos_token=token_text(self.llm.token_eos()),
                                   bos_token=token_text(self.llm.token_bos()))

    def count_prompt_tokens(self, messages: list[dict[str, str]]) -> int | None:
        if self._prompt_formatter is None:
            return None
        result = self._prompt_formatter(messages=messages)
        add_bos = not getattr(result, "added_special", False)
        return len(self.llm.tokenize(result.prompt.encode("utf-8"), add_bos=add_bos, special=True))

    def count_text_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0

    def chat(self, request: ChatRequest) -> Any:
        """Start a completion: a dict, or an iterator of chunk dicts when streaming. Call under `lock`."""
        try:
            return self.llm.create_chat_completion(messages=request.messages, stream=request.stream,
                                                   model=LOCAL_MODEL_ID, **request.params)
        except ValueError as exc:
            raise _context_error(exc) from exc

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Mean-pooled, L2-normalised embeddings from the same small model. Call under `lock`."""
        if self._embedder is None:
            self._embedder = load_llama(self.model_path, n_ctx=EMBEDDING_N_CTX, embedding=True,
                                        threads=self.threads)
        vectors, tokens = self._embedder.embed(texts, return_count=True)
        return [_normalised(v) for v in vectors], int(tokens)


def _normalised(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _context_error(exc: ValueError) -> Exception:
    if "context window" in str(exc):
        return BadRequest(400, "context_length_exceeded", f"The conversation is too long for the local model "
                          f"(context of {DEFAULT_N_CTX} tokens): {exc}. Shorten it or use a bigger model.")
    return exc


# -- HTTP ----------------------------------------------------------------------------------------------


class ClientGone(Exception):
    """The client closed the connection; stop generating."""


def _make_handler(engine: Engine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # send each token at once, not after the 40 ms delayed-ACK wait
        server_version = "ProtostudioLocal/1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would flood the parent's stderr tail

        # -- plumbing -------------------------------------------------------------------------------

        def _path(self) -> str:
            return self.path.split("?", 1)[0].rstrip("/")

        def _read_json(self) -> dict[str, Any]:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"null")
            except ValueError as exc:
                raise BadRequest(400, "invalid_json", f"The request body is not valid JSON: {exc}") from exc
            if not isinstance(body, dict):
                raise BadRequest(400, "invalid_request_error", "The request body must be a JSON object.")
            return body

        def _json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, code: str, message: str) -> None:
            kind = "invalid_request_error" if status < 500 else "server_error"
            self._json(status, {"error": {"message": message, "type": kind, "code": code}})

        def _chunk(self, data: bytes) -> None:
            try:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError) as exc:
                raise ClientGone from exc

        def _event(self, payload: Any) -> None:
            self._chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

        def _guarded(self, route: Any) -> None:
            try:
                route()
            except BadRequest as exc:
                self._error(exc.status, exc.code, exc.message)
            except ClientGone:
                self.close_connection = True
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            except Exception as exc:
                traceback.print_exc(file=sys.stderr)
                with contextlib.suppress(OSError):
                    self._error(500, "server_error", f"The local model failed: {type(exc).__name__}: {exc}")

        # -- routes ---------------------------------------------------------------------------------

        def do_GET(self) -> None:
            path = self._path()
            if path in {"/v1/models", "/models"}:
                model = {"id": LOCAL_MODEL_ID, "object": "model", "created": 0,
                         "owned_by": "protostudio-local"}
                self._json(200, {"object": "list", "data": [model]})
            elif path == "/health":
                self._json(200, {"status": "ok", "busy": engine.lock.locked(), **engine.stats})
            else:
                self._error(404, "not_found", f"No route {path}.")

        def do_POST(self) -> None:
            path = self._path()
            if path in {"/v1/chat/completions", "/chat/completions"}:
                self._guarded(self._chat)
            elif path in {"/v1/embeddings", "/embeddings"}:
                self._guarded(self._embeddings)
            else:
                self._read_json_quietly()
                self._error(404, "not_found", f"No route {path}.")

        def _read_json_quietly(self) -> None:
            with contextlib.suppress(BadRequest):
                self._read_json()

        def _embeddings(self) -> None:
            body = self._read_json()
            model = body.get("model")
            if model is not None and model != LOCAL_MODEL_ID:
                raise BadRequest(404, "model_not_found",
                                 f"The local provider embeds only with `{LOCAL_MODEL_ID}`.")
            raw = body.get("input")
            texts = [raw] if isinstance(raw, str) else raw
            if not (isinstance(texts, list) and texts and all(isinstance(t, str) for t in texts)):
                raise BadRequest(400, "invalid_request_error", "`input` must be a string or list of strings")
            with engine.lock:
                vectors, tokens = engine.embed(texts)
            data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
            self._json(200, {"object": "list", "data": data, "model": LOCAL_MODEL_ID,
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

        def _chat(self) -> None:
            request = ChatRequest.parse(self._read_json())
            with engine.lock:
                if not request.stream:
                    self._json(200, engine.chat(request))
                    return
                chunks = engine.chat(request)
                try:
                    self._stream(request, chunks)
                    engine.stats["streams_completed"] += 1
                except ClientGone:
                    engine.stats["streams_abandoned"] += 1
                    raise
                finally:
                    chunks.close()  # stops llama.cpp generating for a client that left

        def _stream(self, request: ChatRequest, chunks: Iterator[dict[str, Any]]) -> None:
            try:
                first = next(chunks, None)  # the prompt is evaluated here, so its errors still get a status
            except ValueError as exc:
                raise _context_error(exc) from exc
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            text: list[str] = []
            chunk_id = "chatcmpl-local"
            try:
                for chunk in itertools.chain([first] if first is not None else [], chunks):
                    for choice in chunk.get("choices", []):
                        text.append((choice.get("delta") or {}).get("content") or "")
                    chunk_id = chunk.get("id", chunk_id)
                    self._event(chunk)
            except ClientGone:
                raise
            except Exception as exc:  # the headers are out: cutting the stream is how the client learns
                traceback.print_exc(file=sys.stderr)
                raise ClientGone from exc
            if request.include_usage:
                prompt_tokens = engine.count_prompt_tokens(request.messages)
                completion_tokens = engine.count_text_tokens("".join(text))
                self._event({
                    "id": chunk_id, "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": LOCAL_MODEL_ID, "choices": [],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                              "total_tokens": (prompt_tokens or 0) + completion_tokens},
                })
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")  # the zero-length chunk ends the chunked body

    return Handler


# -- process -----------------------------------------------------------------------------------------


def _exit_when_parent_dies() -> None:
    """Exit when stdin reaches EOF (the parent closed it or died) or when we are re-parented."""
    parent = os.getppid()

    def watch_stdin() -> None:
        with contextlib.suppress(OSError, ValueError):
            while sys.stdin.buffer.read(4096):
                pass
        os._exit(0)

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the bundled model over an OpenAI-compatible API.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--model", type=Path, default=None, help="gguf file (default: the bundled SmolLM2)")
    parser.add_argument("--n-ctx", type=int, default=DEFAULT_N_CTX)
    parser.add_argument("--threads", type=int, default=None, help=f"default: ${THREADS_ENV} or cores / 2")
    args = parser.parse_args(argv)

    _exit_when_parent_dies()
    try:
        model_path = args.model or bundled_model_path()
        engine = Engine(model_path, n_ctx=args.n_ctx, threads=args.threads)
    except Exception as exc:
        print(f"could not load the local model: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 2
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), _make_handler(engine))
    httpd.daemon_threads = True
    print(f"{READY_PREFIX} port={httpd.server_address[1]}", flush=True)
    httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
