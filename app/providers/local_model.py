"""The parent side of the bundled local model: start, watch, restart and stop its child process.

The model runs in `app.providers.local_server`, never in the app's process: llama.cpp is native code
and a crash there (a segfault has been seen on this machine class) must not take the app down. This
module imports no llama_cpp. It starts the child lazily, hands out its OpenAI-compatible base URL,
notices when it died, restarts it on the next use, and stops it when the app exits.
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
from app.providers.local_server import READY_PREFIX
from app.providers.model_files import LOCAL_MODEL_ID, bundled_model_path, check_model_file

__all__ = ["LOCAL_MODEL_ID", "LocalModel", "shared_local_model"]

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


def _child_env() -> dict[str, str]:
    """The child's environment: can import `app` from wherever it lives, and sees no provider keys."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    root = str(Path(__file__).resolve().parents[2])  # the folder holding `app/`
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class LocalModel:
    """One child process serving the bundled model; started lazily, restarted after a crash.

    Thread-safe. `ensure_started()` (async) and `ensure_started_sync()` return the base URL for the
    openai SDK; concurrent callers share one start.
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

    def crash_message(self) -> str:
        """A user-facing sentence for a request that failed because the child died."""
        how = self.last_exit_description() or "stopped"
        return (f"The bundled local model crashed ({how}). It restarts on the next request; "
                "if this keeps happening, use another provider.")

    # -- lifecycle ----------------------------------------------------------------------------------

    async def ensure_started(self) -> str:
        """Start the child if needed (in a thread, so the event loop keeps going); its base URL."""
        return await asyncio.to_thread(self.ensure_started_sync)

    def ensure_started_sync(self) -> str:
        """Start the child if it is not running (first use, or after a crash); its base URL."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None and self._base_url is not None:
                return self._base_url
            if proc is not None:
                self._last_returncode = proc.poll()
            model_path = self._model_path or bundled_model_path()
            check_model_file(model_path)
            self._base_url = self._start(model_path)
            return self._base_url

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
            LocalModel._scan_for_port(stream, port, found)

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
