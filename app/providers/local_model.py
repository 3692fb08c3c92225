"""The parent side of the bundled local model: start, watch, restart and stop its child processes.

The model runs in `app.providers.local_server`, never in the app's process: llama.cpp is native code
and a crash there (a segfault has been seen on this machine class) must not take the app down. This
module imports no llama_cpp.

A child answers one request at a time, so a run with four columns would stream one cell while three
wait. `LocalModel` is therefore a small pool: `workers` children (default
$PROTOSTUDIO_LOCAL_WORKERS, else min(2, cores)), each on its own loopback port, each started lazily
the first time a request is leased to it. `acquire()` leases the least busy child; a crash ends only
the requests on that child, and that child restarts on its next lease. Everything stops at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO

from app.providers.events import ErrorKind, ProviderError
from app.providers.local_server import READY_PREFIX, THREADS_ENV, cpu_cores
from app.providers.model_files import LOCAL_MODEL_ID, bundled_model_path, check_model_file

__all__ = ["LOCAL_MODEL_ID", "WORKERS_ENV", "LocalLease", "LocalModel", "default_workers",
           "shared_local_model", "threads_per_child"]

WORKERS_ENV = "PROTOSTUDIO_LOCAL_WORKERS"
_STDERR_LINES = 30
_SHOWN_STDERR_LINES = 8


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


def default_workers() -> int:
    """Children in the pool: $PROTOSTUDIO_LOCAL_WORKERS, else min(2, cores).

    Two children on two cores let two columns stream at once; each loads its own copy of the
    ~100 MB model. More than two is rarely worth the memory for a 135M model on a laptop.
    """
    try:
        return max(1, int(os.environ.get(WORKERS_ENV, "")))
    except ValueError:
        return max(1, min(2, cpu_cores()))


def threads_per_child(workers: int) -> int:
    """llama.cpp threads per child: $PROTOSTUDIO_LOCAL_THREADS, else the half of the cores that one
    child would use alone (see `local_server.default_threads`), shared out among the children."""
    try:
        return max(1, int(os.environ.get(THREADS_ENV, "")))
    except ValueError:
        return max(1, (cpu_cores() // 2) // max(1, workers))


def _child_env() -> dict[str, str]:
    """The child's environment: can import `app` from wherever it lives, and sees no provider keys."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    root = str(Path(__file__).resolve().parents[2])  # the folder holding `app/`
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _Child:
    """One child process serving the bundled model; started lazily, restarted after a crash.

    Thread-safe: concurrent `ensure_started_sync()` callers share one start.
    """

    def __init__(self, *, model_path: Path | None = None, startup_timeout: float = 120.0,
                 python: str = sys.executable, threads: int | None = None) -> None:
        self._model_path = model_path
        self._threads = threads
        self._startup_timeout = startup_timeout
        self._python = python
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._base_url: str | None = None
        self._stopped_on_purpose = False
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._last_returncode: int | None = None

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

    def crashed(self, grace: float = 0.0) -> bool:
        """The child exited unexpectedly since it was started (not by `shutdown()`).

        A client usually sees the dropped connection a moment before the process is reaped; pass a
        `grace` of a second or so when asking right after a failed request.
        """
        proc = self._proc
        if proc is None or self._stopped_on_purpose:
            return False
        if grace > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
        return proc.poll() is not None

    def last_exit_description(self) -> str:
        """How the child last ended, e.g. 'killed by signal SIGSEGV (11)'; '' if it never ended."""
        proc = self._proc
        code = proc.poll() if proc is not None else None
        if code is None:
            code = self._last_returncode
        return describe_exit(code) if code is not None else ""

    def stderr_tail(self) -> list[str]:
        """The child's last stderr lines (llama.cpp and Python diagnostics; it never sees keys)."""
        return list(self._stderr)

    def ended_on_purpose(self, proc: subprocess.Popen[bytes]) -> bool:
        """`proc` was stopped by `shutdown()` (or a start timeout), not by a crash."""
        return proc is self._proc and self._stopped_on_purpose

    # -- lifecycle ----------------------------------------------------------------------------------

    def ensure_started_sync(self) -> str:
        """Start the child if it is not running (first use, or after a crash); its base URL."""
        return self.start_for_lease()[0]

    def start_for_lease(self) -> tuple[str, subprocess.Popen[bytes]]:
        """The base URL and the very process behind it: a lease judges a crash by that process,
        not by whatever runs in this slot after a restart."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None and self._base_url is not None:
                return self._base_url, proc
            if proc is not None:
                self._last_returncode = proc.poll()
            model_path = self._model_path or bundled_model_path()
            check_model_file(model_path)
            self._base_url = self._start(model_path)
            assert self._proc is not None
            return self._base_url, self._proc

    def shutdown(self) -> None:
        """Stop the child: close its stdin (it exits on EOF), then terminate, then kill. Idempotent."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            self._stopped_on_purpose = True
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
            self._last_returncode = proc.poll()
            self._close_stdin(proc)

    # -- internals ----------------------------------------------------------------------------------

    def _start(self, model_path: Path) -> str:
        if self._proc is not None:
            self._close_stdin(self._proc)
        self._stderr.clear()
        self._stopped_on_purpose = False
        command = [self._python, "-m", "app.providers.local_server", "--port", "0",
                   "--model", str(model_path)]
        if self._threads:
            command += ["--threads", str(self._threads)]
        try:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=_child_env(), start_new_session=True)
        except OSError as exc:
            raise ProviderError(ErrorKind.LOCAL_CRASH,
                                f"Could not start the local model process ({self._python}): {exc}") from exc
        self._proc = proc
        port_found = threading.Event()
        port: list[int] = []
        assert proc.stdout is not None and proc.stderr is not None
        threading.Thread(target=self._read_stdout, args=(proc.stdout, port, port_found),
                         name=f"local-model-stdout-{proc.pid}", daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(proc.stderr,),
                         name=f"local-model-stderr-{proc.pid}", daemon=True).start()

        deadline = time.monotonic() + self._startup_timeout
        while not port_found.wait(0.05):
            if proc.poll() is not None:
                time.sleep(0.1)  # let the stderr reader catch the last lines
                self._last_returncode = proc.returncode
                raise ProviderError(ErrorKind.LOCAL_CRASH, self._failure(
                    f"The local model process failed to start ({describe_exit(proc.returncode)})."))
            if time.monotonic() > deadline:
                self._stopped_on_purpose = True
                proc.kill()
                proc.wait()
                raise ProviderError(ErrorKind.LOCAL_CRASH, self._failure(
                    f"The local model did not become ready within {self._startup_timeout:g} s."))
        return f"http://127.0.0.1:{port[0]}/v1"

    def _failure(self, headline: str) -> str:
        lines = [line for line in self._stderr if line.strip()][-_SHOWN_STDERR_LINES:]
        return headline + ("\nLast output of the model process:\n" + "\n".join(lines) if lines else "")

    @staticmethod
    def _read_stdout(stream: IO[bytes], port: list[int], found: threading.Event) -> None:
        with stream:
            _Child._scan_for_port(stream, port, found)

    @staticmethod
    def _scan_for_port(stream: IO[bytes], port: list[int], found: threading.Event) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith(READY_PREFIX) and not found.is_set():
                with contextlib.suppress(ValueError, IndexError):
                    port.append(int(line.split("port=", 1)[1].split()[0]))
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


class LocalLease:
    """One request's hold on one child. Judges a crash by the process it was given, so a restart of
    the same slot by another request in the meantime does not hide (or fake) this request's crash."""

    def __init__(self, pool: LocalModel, index: int, child: _Child, base_url: str,
                 proc: subprocess.Popen[bytes]) -> None:
        self.index = index
        self.base_url = base_url
        self.pid = proc.pid
        self._pool = pool
        self._child = child
        self._proc = proc
        self._released = False

    def crashed(self, grace: float = 0.0) -> bool:
        """The leased process exited, and not because the pool was shut down."""
        if grace > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=grace)
        return self._proc.poll() is not None and not self._child.ended_on_purpose(self._proc)

    def last_exit_description(self) -> str:
        code = self._proc.poll()
        return describe_exit(code) if code is not None else ""

    def crash_message(self) -> str:
        return _crash_message(self.last_exit_description())

    def release(self) -> None:
        """Give the slot back. Idempotent."""
        if not self._released:
            self._released = True
            self._pool._release(self.index)


def _crash_message(how: str) -> str:
    return (f"The bundled local model crashed ({how or 'stopped'}). It restarts on the next request; "
            "if this keeps happening, use another provider.")


class LocalModel:
    """A pool of `workers` children serving the bundled model; each started lazily, restarted after
    a crash. Thread-safe.

    `acquire()` leases the least busy child for one request (the hub uses it). The older single-child
    API still works and means child 0: `ensure_started()` / `ensure_started_sync()` return its base
    URL, `pid` and `base_url` are its own; `crashed()` and `last_exit_description()` look at every child.
    """

    def __init__(self, *, model_path: Path | None = None, startup_timeout: float = 120.0,
                 python: str = sys.executable, threads: int | None = None,
                 workers: int | None = None) -> None:
        self.workers = max(1, workers if workers is not None else default_workers())
        self.threads = threads or threads_per_child(self.workers)
        self._children = [_Child(model_path=model_path, startup_timeout=startup_timeout, python=python,
                                 threads=self.threads) for _ in range(self.workers)]
        self._busy = [0] * self.workers
        self._busy_lock = threading.Lock()

    # -- the pool -----------------------------------------------------------------------------------

    async def acquire(self) -> LocalLease:
        """Lease the least busy child (a running one on a tie), starting it if needed.

        The slot is counted before the start, so requests arriving together spread over the children.
        Raises ProviderError(LOCAL_CRASH) if that child cannot start. `release()` the lease when done.
        """
        with self._busy_lock:
            index = min(range(self.workers),
                        key=lambda i: (self._busy[i], not self._children[i].is_running(), i))
            self._busy[index] += 1
        child = self._children[index]
        try:
            base_url, proc = await asyncio.to_thread(child.start_for_lease)
        except BaseException:
            self._release(index)
            raise
        return LocalLease(self, index, child, base_url, proc)

    def _release(self, index: int) -> None:
        with self._busy_lock:
            self._busy[index] = max(0, self._busy[index] - 1)

    def busy(self) -> list[int]:
        """Requests leased to each child right now."""
        with self._busy_lock:
            return list(self._busy)

    @property
    def base_urls(self) -> list[str]:
        """The URLs of the running children; starts none."""
        return [url for child in self._children if (url := child.base_url) is not None]

    @property
    def pids(self) -> list[int]:
        """The pids of the running children."""
        return [pid for child in self._children if (pid := child.pid) is not None]

    # -- state (child 0, or the whole pool) ---------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._children[0].pid

    @property
    def base_url(self) -> str | None:
        """The URL of child 0 if it runs, or None; does not start it."""
        return self._children[0].base_url

    def is_running(self) -> bool:
        """Any child runs."""
        return any(child.is_running() for child in self._children)

    def crashed(self, grace: float = 0.0) -> bool:
        """Some child exited unexpectedly since it was started (not by `shutdown()`).

        A client usually sees the dropped connection a moment before the process is reaped; pass a
        `grace` of a second or so when asking right after a failed request.
        """
        deadline = time.monotonic() + grace
        while True:
            if any(child.crashed() for child in self._children):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def last_exit_description(self) -> str:
        """How a child last ended, e.g. 'killed by signal SIGSEGV (11)' (a crashed one first)."""
        ordered = sorted(self._children, key=lambda child: not child.crashed())
        return next((how for child in ordered if (how := child.last_exit_description())), "")

    def stderr_tail(self) -> list[str]:
        """The last stderr lines of the children (llama.cpp and Python diagnostics; they never see keys)."""
        return [line for child in self._children for line in child.stderr_tail()]

    def crash_message(self) -> str:
        """A user-facing sentence for a request that failed because a child died."""
        return _crash_message(self.last_exit_description())

    # -- lifecycle ----------------------------------------------------------------------------------

    async def ensure_started(self) -> str:
        """Start child 0 if needed (in a thread, so the event loop keeps going); its base URL."""
        return await asyncio.to_thread(self.ensure_started_sync)

    def ensure_started_sync(self) -> str:
        """Start child 0 if it is not running (first use, or after a crash); its base URL."""
        return self._children[0].ensure_started_sync()

    def shutdown(self) -> None:
        """Stop every child. Idempotent."""
        for child in self._children:
            child.shutdown()


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
