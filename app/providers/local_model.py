"""The parent side of the bundled local model: start, watch, restart and stop its child processes.

The model runs in `app.providers.local_server` (llama.cpp's own server through `xllamacpp`), never in
the app's process: llama.cpp is native code, and a crash there must not take the app down. This
module imports no native code.

One child serves chat with `slots` parallel slots (continuous batching, one copy of the weights), so
four columns stream at once. A second child, started only when something asks for embeddings,
serves `/v1/embeddings` (llama.cpp serves embeddings only from a server started for them).

Faults, each reported to the requests on the process that had them and no others:
- a crash (e.g. SIGSEGV): the lease sees its process gone and names the signal; the child restarts
  on the next request;
- a hang (e.g. SIGSTOP, a deadlock): a watchdog polls llama.cpp's `/health`; after `hang_after`
  seconds without an answer it kills the child and records why;
- the app exits: every child is stopped at exit, closes itself when its stdin closes, and the
  kernel kills it if the app dies abruptly (PR_SET_PDEATHSIG in the child).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import http.client
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from pathlib import Path
from queue import SimpleQueue
from typing import IO, Any

from app.providers.events import ErrorKind, ProviderError
from app.providers.local_server import READY_PREFIX, cpu_cores, default_threads
from app.providers.model_files import LOCAL_MODEL_ID, bundled_model_path, check_model_file

__all__ = ["LOCAL_MODEL_ID", "SLOTS_ENV", "LocalLease", "LocalModel", "cpu_cores", "default_slots",
           "shared_local_model"]

SLOTS_ENV = "PROTOSTUDIO_LOCAL_SLOTS"
HANG_AFTER_S = 10.0
_STDERR_LINES = 30
_SHOWN_STDERR_LINES = 8
_CHILD_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TMPDIR", "TEMP", "TMP", "TZ",
              "SYSTEMROOT", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "PROTOSTUDIO_LOCAL_THREADS")


class _Spawner:
    """Starts every child from one daemon thread that lives as long as the app.

    The kernel's PR_SET_PDEATHSIG (which the child sets) fires when the *thread* that started the
    child ends, not the process; a child started from a short-lived worker thread would die with it.
    """

    def __init__(self) -> None:
        self._requests: SimpleQueue[tuple[Future[subprocess.Popen[bytes]], list[str], dict[str, Any]]]
        self._requests = SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def popen(self, command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="local-model-spawner", daemon=True)
                self._thread.start()
        future: Future[subprocess.Popen[bytes]] = Future()
        self._requests.put((future, command, kwargs))
        return future.result()

    def _serve(self) -> None:
        while True:
            future, command, kwargs = self._requests.get()
            try:
                future.set_result(subprocess.Popen(command, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)


_SPAWNER = _Spawner()


def describe_exit(returncode: int | None) -> str:
    """A returncode in words: 'killed by signal SIGSEGV (11)', 'exited with status 2'."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {name} ({-returncode})"
    if returncode == 0:
        return "exited normally"
    return f"exited with status {returncode}"


def default_slots() -> int:
    """Requests the bundled model decodes at once: $PROTOSTUDIO_LOCAL_SLOTS, else 4.

    Four is the common number of profiles in a prototype, so a first run streams every column at
    once. Slots cost only KV cache (2,048 tokens each, a few MB for a 135M model), not weights.
    """
    try:
        return max(1, int(os.environ.get(SLOTS_ENV, "")))
    except ValueError:
        return 4


def child_env() -> dict[str, str]:
    """The child's environment: an allow-list, so no provider key (whatever its variable's name)
    reaches native code; plus what it needs to import `app` from wherever it lives."""
    env = {k: v for k, v in os.environ.items() if k in _CHILD_ENV or k.startswith("LC_")}
    root = str(Path(__file__).resolve().parents[2])  # the folder holding `app/`
    env["PYTHONPATH"] = root
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _Child:
    """One child process serving the bundled model; started lazily, restarted after a crash or hang.

    Thread-safe: concurrent `start()` callers share one start.
    """

    def __init__(self, *, role: str, slots: int, threads: int, model_path: Path | None,
                 startup_timeout: float, python: str, hang_after: float) -> None:
        self.role = role
        self.slots = slots
        self._threads = threads
        self._model_path = model_path
        self._startup_timeout = startup_timeout
        self._python = python
        self._hang_after = hang_after
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._base_url: str | None = None
        self._api_key = ""
        self._on_purpose: set[int] = set()  # pids we stopped ourselves
        self._causes: dict[int, str] = {}  # pid -> why we killed it (a hang)
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)

    # -- state --------------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def base_url(self) -> str | None:
        """The URL of the running child, or None; does not start it."""
        return self._base_url if self.is_running() else None

    def is_running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def stderr_tail(self) -> list[str]:
        """The child's last stderr lines (llama.cpp diagnostics; it never sees keys)."""
        return list(self._stderr)

    def ended_on_purpose(self, proc: subprocess.Popen[bytes]) -> bool:
        return proc.pid in self._on_purpose

    def exit_description(self, proc: subprocess.Popen[bytes]) -> str:
        """How `proc` ended: the watchdog's reason for a hang, else its exit status in words."""
        cause = self._causes.get(proc.pid)
        if cause:
            return cause
        code = proc.poll()
        return describe_exit(code) if code is not None else ""

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> tuple[str, str, subprocess.Popen[bytes]]:
        """Start the child if it is not running; its base URL, its session key and the very process
        behind them (a lease judges a crash by that process, not by whatever runs after a restart)."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None and self._base_url is not None:
                return self._base_url, self._api_key, proc
            model_path = self._model_path or bundled_model_path()
            check_model_file(model_path)
            self._start(model_path)
            assert self._proc is not None and self._base_url is not None
            return self._base_url, self._api_key, self._proc

    def shutdown(self) -> None:
        """Stop the child: close its stdin (it exits on EOF), then terminate, then kill. Idempotent."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            self._on_purpose.add(proc.pid)
            self._base_url = None
            if proc.poll() is None:
                self._close_stdin(proc)
                for stop in (None, proc.terminate, proc.kill):
                    if stop is not None:
                        with contextlib.suppress(OSError):
                            stop()
                    try:
                        proc.wait(timeout=3.0)
                        break
                    except subprocess.TimeoutExpired:
                        continue
            self._close_stdin(proc)

    # -- internals ----------------------------------------------------------------------------------

    def _start(self, model_path: Path) -> None:
        if self._proc is not None:
            self._close_stdin(self._proc)
        self._stderr.clear()
        self._api_key = secrets.token_urlsafe(24)
        command = [self._python, "-m", "app.providers.local_server", "--model", str(model_path),
                   "--slots", str(self.slots), "--threads", str(self._threads), "--parent", str(os.getpid())]
        if self.role == "embedding":
            command.append("--embedding")
        try:
            proc = _SPAWNER.popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=child_env(), start_new_session=True)
        except OSError as exc:
            raise ProviderError(ErrorKind.LOCAL_CRASH,
                                f"Could not start the local model process ({self._python}): {exc}") from exc
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self._proc = proc
        try:
            proc.stdin.write(self._api_key.encode() + b"\n")
            proc.stdin.flush()
        except OSError:
            pass  # it died at once: reported below with its stderr
        found = threading.Event()
        url: list[str] = []
        threading.Thread(target=self._read_stdout, args=(proc.stdout, url, found),
                         name=f"local-{self.role}-stdout-{proc.pid}", daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(proc.stderr,),
                         name=f"local-{self.role}-stderr-{proc.pid}", daemon=True).start()

        deadline = time.monotonic() + self._startup_timeout
        while not found.wait(0.05):
            if proc.poll() is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(0.2)  # let the stderr reader catch the last lines
                raise ProviderError(ErrorKind.LOCAL_CRASH, self._failure(
                    f"The local model process failed to start ({describe_exit(proc.returncode)})."))
            if time.monotonic() > deadline:
                self._on_purpose.add(proc.pid)
                proc.kill()
                proc.wait()
                raise ProviderError(ErrorKind.LOCAL_CRASH, self._failure(
                    f"The local model did not become ready within {self._startup_timeout:g} s."))
        self._base_url = url[0].rstrip("/") + "/v1"
        threading.Thread(target=self._watch, args=(proc, url[0]), daemon=True,
                         name=f"local-{self.role}-watchdog-{proc.pid}").start()

    def _watch(self, proc: subprocess.Popen[bytes], url: str) -> None:
        """Kill `proc` when llama.cpp's /health has not answered for `hang_after` seconds."""
        host, port = url.split("//", 1)[1].rsplit(":", 1)
        interval = min(1.0, self._hang_after / 4)
        last_ok = time.monotonic()
        while proc.poll() is None:
            if _healthy(host, int(port), timeout=interval):
                last_ok = time.monotonic()
            elif time.monotonic() - last_ok > self._hang_after and proc.poll() is None:
                self._causes[proc.pid] = (f"stopped responding for {self._hang_after:g} s and was stopped; "
                                          "it restarts on the next request")
                with contextlib.suppress(OSError):
                    proc.kill()
                return
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(interval)

    def _failure(self, headline: str) -> str:
        lines = [line for line in self._stderr if line.strip()][-_SHOWN_STDERR_LINES:]
        return headline + ("\nLast output of the model process:\n" + "\n".join(lines) if lines else "")

    @staticmethod
    def _read_stdout(stream: IO[bytes], url: list[str], found: threading.Event) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").strip()
                if line.startswith(READY_PREFIX) and "url=" in line and not found.is_set():
                    url.append(line.split("url=", 1)[1].split()[0])
                    found.set()

    def _read_stderr(self, stream: IO[bytes]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    @staticmethod
    def _close_stdin(proc: subprocess.Popen[bytes]) -> None:
        """stdout and stderr are closed by their reader threads at EOF."""
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()


def _healthy(host: str, port: int, *, timeout: float) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


class LocalLease:
    """One request's hold on the process serving it. Judges a crash by that very process, so a
    restart by another request in the meantime does not hide (or fake) this request's crash."""

    def __init__(self, child: _Child, base_url: str, api_key: str, proc: subprocess.Popen[bytes]) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.pid = proc.pid
        self._child = child
        self._proc = proc

    def crashed(self, grace: float = 0.0) -> bool:
        """The leased process exited, and not because the app stopped it."""
        if grace > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=grace)
        return self._proc.poll() is not None and not self._child.ended_on_purpose(self._proc)

    def last_exit_description(self) -> str:
        return self._child.exit_description(self._proc)

    def release(self) -> None:
        """Nothing to give back: llama.cpp queues requests beyond its slots itself."""


class LocalModel:
    """The bundled model's processes: chat (`slots` parallel slots) and, on demand, embeddings.

    Thread-safe. `acquire()` returns a lease on the chat process (started if needed); the hub
    sends the request to `lease.base_url` with `lease.api_key`.
    """

    def __init__(self, *, model_path: Path | None = None, startup_timeout: float = 120.0,
                 python: str = sys.executable, threads: int | None = None, slots: int | None = None,
                 hang_after: float = HANG_AFTER_S) -> None:
        self.slots = max(1, slots if slots is not None else default_slots())
        self.threads = threads or default_threads()
        common = {"model_path": model_path, "startup_timeout": startup_timeout, "python": python,
                  "hang_after": hang_after, "threads": self.threads}
        self._chat = _Child(role="chat", slots=self.slots, **common)  # type: ignore[arg-type]
        self._embedding = _Child(role="embedding", slots=1, **common)  # type: ignore[arg-type]

    async def acquire(self, *, embedding: bool = False) -> LocalLease:
        """A lease on the chat (or embedding) process, started in a thread if needed.

        Raises ProviderError(LOCAL_CRASH) if it cannot start."""
        child = self._embedding if embedding else self._chat
        base_url, api_key, proc = await asyncio.to_thread(child.start)
        return LocalLease(child, base_url, api_key, proc)

    def warm_up(self) -> None:
        """Start the chat process now, in a background thread, so the first run finds it loaded."""
        def start() -> None:
            with contextlib.suppress(ProviderError):
                self._chat.start()

        threading.Thread(target=start, name="local-model-warm-up", daemon=True).start()

    # -- state --------------------------------------------------------------------------------------

    @property
    def pids(self) -> list[int]:
        """The pids of the running processes."""
        return [pid for child in (self._chat, self._embedding) if (pid := child.pid) is not None]

    @property
    def chat_pid(self) -> int | None:
        return self._chat.pid

    @property
    def base_url(self) -> str | None:
        """The chat process's URL if it runs; does not start it."""
        return self._chat.base_url

    def is_running(self) -> bool:
        return self._chat.is_running() or self._embedding.is_running()

    def stderr_tail(self) -> list[str]:
        return self._chat.stderr_tail() + self._embedding.stderr_tail()

    def shutdown(self) -> None:
        """Stop every process. Idempotent."""
        self._chat.shutdown()
        self._embedding.shutdown()


_shared: LocalModel | None = None
_shared_lock = threading.Lock()


def shared_local_model() -> LocalModel:
    """The process-wide local model, shut down when the interpreter exits."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LocalModel()
            atexit.register(_shared.shutdown)
        return _shared

