"""Speaking a voice preview offline with espeak-ng, in a child process (never on the GUI thread).

Why espeak-ng and not QtTextToSpeech: PySide6's wheel ships only the `speechd` engine on Linux,
which needs the speech-dispatcher daemon running (absent here: "engine not initialized") and says
nothing when it is missing; espeak-ng is one small package on every platform, needs no daemon,
and can write the very same speech to a WAV file (`-w`), so a test can check it isn't silent.
It speaks at the core's `SPEAKING_WPM`, so what you hear lasts as long as the estimate says.

One reply speaks at a time: starting another stops the first (`shared_player()`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QProcess, Signal

from app.core.formfactors import SPEAKING_WPM

ESPEAK = "espeak-ng"
APT_PACKAGE = "espeak-ng"
MISSING_MESSAGE = (
    "Voice playback needs espeak-ng, which is not installed. "
    f"Install it (Debian/Ubuntu: sudo apt install {APT_PACKAGE}; Fedora: sudo dnf install espeak-ng; "
    "macOS: brew install espeak-ng), then reopen the file."
)
VOICE = "en-us"


def espeak_path() -> str | None:
    """The espeak-ng program, or None when it is not installed."""
    return shutil.which(ESPEAK)


def espeak_arguments(wav: Path | None = None) -> list[str]:
    """espeak-ng's arguments: the text comes on stdin (never argv: a reply may start with `-`, and
    argv has a length limit); with `wav`, write the speech there instead of playing it."""
    arguments = ["-v", VOICE, "-s", str(SPEAKING_WPM), "--stdin"]
    if wav is not None:
        arguments += ["-w", str(wav)]
    return arguments


class SpeechPlayer(QObject):
    """Plays one text at a time through a speech program; `stop()` ends it at once."""

    sig_state_changed = Signal(object, bool)
    """(owner, playing): who asked to play, and whether it is speaking now."""
    sig_problem = Signal(object, str)
    """(owner, message): the program failed or could not reach the sound output."""

    def __init__(self, program: str | None = None, arguments: list[str] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.program = program if program is not None else espeak_path()
        self.arguments = arguments if arguments is not None else espeak_arguments()
        self._process: QProcess | None = None
        self._owner: object = None

    @property
    def available(self) -> bool:
        return bool(self.program)

    def owner(self) -> object:
        """Who is being spoken for now (None when silent)."""
        return self._owner if self._process is not None else None

    def play(self, text: str, owner: object) -> None:
        """Speak `text` for `owner`, stopping whatever was playing."""
        self.stop()
        if not self.program:
            self.sig_problem.emit(owner, MISSING_MESSAGE)
            return
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        process.finished.connect(lambda _code, _status, p=process: self._on_finished(p))
        process.errorOccurred.connect(lambda error, p=process: self._on_error(p, error))
        self._process, self._owner = process, owner
        process.start(self.program, self.arguments)
        process.write(text.encode("utf-8"))
        process.closeWriteChannel()
        self.sig_state_changed.emit(owner, True)

    def stop(self, owner: object = None) -> None:
        """Stop speaking (only if speaking for `owner`, when given)."""
        process = self._process
        if process is None or (owner is not None and owner is not self._owner):
            return
        previous = self._owner
        self._process, self._owner = None, None
        process.finished.disconnect()
        process.errorOccurred.disconnect()
        if process.state() != QProcess.ProcessState.NotRunning:
            process.kill()  # SIGKILL: it exits at once; reaping it takes a millisecond, not a wait
            process.waitForFinished(500)
        process.deleteLater()
        self.sig_state_changed.emit(previous, False)

    def _on_finished(self, process: QProcess) -> None:
        if process is not self._process:
            return
        owner = self._owner
        errors = bytes(process.readAllStandardError().data()).decode("utf-8", "replace")
        self._process, self._owner = None, None
        process.deleteLater()
        self.sig_state_changed.emit(owner, False)
        if process.exitCode() != 0 or "error:" in errors:
            self.sig_problem.emit(owner, _problem_text(errors, process.exitCode()))

    def _on_error(self, process: QProcess, error: QProcess.ProcessError) -> None:
        if process is not self._process or error != QProcess.ProcessError.FailedToStart:
            return
        owner = self._owner
        self._process, self._owner = None, None
        process.deleteLater()
        self.sig_state_changed.emit(owner, False)
        self.sig_problem.emit(owner, f"Could not start {self.program}: {process.errorString()}")


def _problem_text(errors: str, code: int) -> str:
    if "ALSA" in errors or "PCM" in errors or "audio" in errors.lower():
        return "No sound: espeak-ng could not open an audio output on this machine."
    last = next((line for line in reversed(errors.splitlines()) if line.strip()), "")
    return f"espeak-ng failed (exit {code}){': ' + last if last else ''}"


_shared: SpeechPlayer | None = None


def shared_player() -> SpeechPlayer:
    """The app's one player, so two cells never talk over each other."""
    global _shared
    if _shared is None:
        _shared = SpeechPlayer()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(_shared.stop)
    return _shared


def set_shared_player(player: SpeechPlayer | None) -> None:
    """Replace the shared player (tests inject a program; None: back to espeak-ng)."""
    global _shared
    if _shared is not None:
        _shared.stop()
    _shared = player
