"""The bundled model's child process: llama.cpp's own HTTP server, started through `xllamacpp`.

Run by `LocalModel` as `python -m app.providers.local_server --slots N --threads T [--embedding]`.
It lives in its own process because llama.cpp is native code: if it crashes, only this child dies,
the app sees a dropped connection, names the cause and restarts it on next use.

Everything HTTP is llama.cpp's: the OpenAI-compatible routes, SSE streaming with usage, continuous
batching over `--slots` parallel slots (one copy of the weights), `response_format` JSON schemas as
grammars, `tools` through the chat template (`use_jinja`), embeddings. What this module adds is only
what llama.cpp cannot know:
- the app's defaults: at most 512 new tokens when a request sets none (a 135M model sometimes loops
  to the end of its context), a mild repeat penalty, no busy-waiting threads (`poll = 0`);
- a per-session API key, read from stdin (never argv or env), so no other local process can use it;
- the handshake: `PROTOSTUDIO_LOCAL_READY url=...` on stdout once listening;
- lifetime: it exits when stdin closes (its parent is gone), and asks the kernel to kill it if the
  parent dies while it is stopped (PR_SET_PDEATHSIG), so no orphan outlives the app.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import sys
from typing import Any

from app.providers.model_files import LOCAL_MODEL_ID, bundled_model_path

READY_PREFIX = "PROTOSTUDIO_LOCAL_READY"
THREADS_ENV = "PROTOSTUDIO_LOCAL_THREADS"
CTX_PER_SLOT = 2048
EMBEDDING_CTX = 512
DEFAULT_MAX_TOKENS = 512
REPEAT_PENALTY = 1.1


def cpu_cores() -> int:
    """Cores this process may run on (not the machine's total, which containers often misreport)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """llama.cpp threads: $PROTOSTUDIO_LOCAL_THREADS, else all cores but one (at least one).

    llama.cpp's threads meet at a barrier many times per token, so one thread that the OS deschedules
    stalls the others. The app itself (GUI, engine, saving) needs a core while the model decodes; on
    the 2-core machine, 2 threads fell to ~2.6 tokens/s under load where 1 thread kept serving four
    columns at 17 tokens/s in total, and `poll = 0` alone did not prevent it (bench/README.md,
    "Local model", has the quiet and loaded figures behind this choice).
    """
    try:
        return max(1, int(os.environ.get(THREADS_ENV, "")))
    except ValueError:
        return max(1, cpu_cores() - 1)


def server_params(model_path: str, *, slots: int, threads: int, embedding: bool = False,
                  api_key: str | None = None, poll: int = 0) -> Any:
    """The `xllamacpp.CommonParams` the app runs with; the benchmark uses the same (and varies `poll`)."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model_path
    params.model_alias = {LOCAL_MODEL_ID}
    params.port = 0  # any free port, reported back through `listening_address`
    params.n_parallel = slots
    params.n_ctx = slots * (EMBEDDING_CTX if embedding else CTX_PER_SLOT)
    params.n_threads_http = slots + 4  # a streaming request holds one; /health must always find one
    for cpu in (params.cpuparams, params.cpuparams_batch):
        cpu.n_threads = threads
        cpu.poll = poll  # 0: sleep, don't spin, while waiting at a barrier (llama.cpp's default is 50)
    params.n_predict = DEFAULT_MAX_TOKENS
    params.sampling.penalty_repeat = REPEAT_PENALTY
    params.use_jinja = True  # tools and the model's own chat template
    params.ui = False
    params.endpoint_metrics = False
    if api_key:
        params.api_keys = [api_key]
    if embedding:
        import xllamacpp as x

        params.embedding = True
        params.pooling_type = x.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
    return params


def _die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this process when the parent exits, even if it is stopped (SIGSTOP)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the bundled model on loopback (internal).")
    parser.add_argument("--model", default=None, help="gguf file (default: the bundled one)")
    parser.add_argument("--slots", type=int, default=4, help="requests decoded at once")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--embedding", action="store_true", help="serve /v1/embeddings only")
    parser.add_argument("--parent", type=int, default=os.getppid())
    args = parser.parse_args(argv)
    _die_with_parent(args.parent)

    api_key = sys.stdin.readline().strip() or None
    import xllamacpp

    model_path = args.model or str(bundled_model_path())
    params = server_params(model_path, slots=max(1, args.slots), threads=args.threads or default_threads(),
                           embedding=args.embedding, api_key=api_key)
    server = xllamacpp.Server(params)
    print(f"{READY_PREFIX} url={server.listening_address}", flush=True)
    sys.stdin.read()  # until the parent closes our stdin or dies
    os._exit(0)  # llama.cpp's threads need no orderly goodbye, and one must never hang the exit


if __name__ == "__main__":
    sys.exit(main())
