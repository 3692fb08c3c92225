"""The File menu's work: new, open, save, save as, recent files, autosave and crash recovery.

Loading, YAML dumping and writing run off the GUI thread (`Job`). Every write is atomic. Ratings and
edits are autosaved a couple of seconds after each change to a recovery file under `state_dir()`;
after a crash the next start offers to restore it. A malformed file opens nothing: the loader's
`file:line:col` problems are shown in the message bar.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.core import jsontext
from app.core.atomic import write_atomic
from app.core.document import dumps_data, parse_prototype, to_data
from app.core.errors import PrototypeError
from app.core.journal import load_recovering
from app.core.paths import state_dir
from app.core.prototype import Case, ModelTarget, Profile, Prototype, Turn
from app.core.structure import LOCAL_MODEL, LOCAL_PROVIDER
from app.ui.document_model import Document
from app.ui.jobs import Job
from app.ui.message_bar import MessageBar
from app.ui.resources import copy_suggestion, is_example
from app.ui.ui_state import UiState

AUTOSAVE_MS = 2000
YAML_FILTER = "Prototypes (*.yaml *.yml);;All files (*)"
Answer = Literal["save", "discard", "cancel"]


def recovery_paths() -> tuple[Path, Path]:
    folder = state_dir() / "recovery"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "autosave.yaml", folder / "autosave.json"


def new_prototype() -> Prototype:
    """A small valid prototype to start from: one profile, the bundled model, one case."""
    return Prototype(
        name="Untitled prototype",
        profiles=[Profile(id="default", name="Default", system_prompt="You are a helpful assistant.")],
        models=[ModelTarget(id="local", provider=LOCAL_PROVIDER, model=LOCAL_MODEL, name="Bundled SmolLM2")],
        cases=[Case(id="hello", turns=[Turn(role="user", content="How are you doing?")])],
    )


def _write_yaml(data: dict[str, object], path: Path) -> None:
    write_atomic(path, dumps_data(data).encode("utf-8"))  # refuses data past an item limit: nothing written


class FileOps(QObject):
    """Owns the document's file life cycle. `ask_unsaved` can be replaced (tests answer without a dialog)."""

    sig_opened = Signal()
    """Another prototype was loaded into the document."""
    sig_recent_changed = Signal()

    def __init__(self, window: QWidget, document: Document, state: UiState, bar: MessageBar) -> None:
        super().__init__(window)
        self.window = window
        self.document = document
        self.state = state
        self.bar = bar
        self.ask_unsaved: Callable[[], Answer] = self._ask_unsaved
        self.loading = False
        self._generation = 0
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave_now)
        self.autosaves = 0
        self._state_writing = False
        self._state_again = False
        document.sig_changed.connect(self._on_changed)

    def _on_changed(self) -> None:
        self._generation += 1
        if self.document.dirty:
            self._autosave.start()
        else:  # an undo went back to the saved file: its recovery copy would offer the undone state
            self.clear_recovery()

    # -- opening -----------------------------------------------------------------------------------

    def new(self) -> None:
        if not self.confirm_discard():
            return
        self.document.replace(new_prototype(), None)
        self.sig_opened.emit()

    def open_dialog(self) -> None:
        start = str(self.document.path.parent) if self.document.path else ""
        name, _ = QFileDialog.getOpenFileName(self.window, "Open prototype", start, YAML_FILTER)
        if name:
            self.open_path(Path(name))

    def open_path(self, path: Path, *, ask: bool = True) -> None:
        """Load in the background; on success replace the document, else show the problems and keep it.

        Unsaved changes are asked about only once the file has loaded: a broken file changes
        nothing, so asking "save or discard?" first would be a question about nothing.
        """
        self.loading = True
        Job(lambda: load_recovering(path)[0]).success(lambda proto: self._loaded(proto, path, ask)).failure(
            lambda exc: self._open_failed(path, exc)
        ).start()

    def _loaded(self, proto: Prototype, path: Path, ask: bool) -> None:
        if ask and not self.confirm_discard():
            self.loading = False
            return
        self._opened(proto, path)

    def open_sync(self, path: Path) -> bool:
        """Load at start-up before the window shows (a small file; the window is not up yet)."""
        try:
            proto, _ = load_recovering(path)  # folds cells a killed `protostudio run` journaled
        except (PrototypeError, OSError) as exc:
            self._open_failed(path, exc)
            return False
        self._opened(proto, path)
        return True

    def _opened(self, proto: Prototype, path: Path) -> None:
        self.loading = False
        self.document.replace(proto, path)
        self.state.add_recent(path)
        self._save_state()
        if self.bar.kind == "error":
            self.bar.dismiss()
        self.sig_opened.emit()
        self.sig_recent_changed.emit()

    def _open_failed(self, path: Path, exc: BaseException) -> None:
        self.loading = False
        if isinstance(exc, PrototypeError):
            problems = "\n".join(str(p) for p in exc.problems[:8])
            more = f"\n… and {len(exc.problems) - 8} more" if len(exc.problems) > 8 else ""
            text = f"Could not open {path.name}; nothing was changed.\n{problems}{more}"
        else:
            text = f"Could not open {path}: {exc}"
        self.bar.show_message(text, "error")

    # -- saving ------------------------------------------------------------------------------------

    def save(self, then: Callable[[], None] | None = None) -> bool:
        """Save to the current path (or ask for one). Returns False when the person cancelled.

        A bundled example is a template: Save asks where to keep a copy instead of overwriting it.
        """
        if self.document.path is None or is_example(self.document.path):
            return self.save_as(then)
        self._save_to(self.document.path, then)
        return True

    def save_as(self, then: Callable[[], None] | None = None) -> bool:
        start = self._suggested()
        name, _ = QFileDialog.getSaveFileName(self.window, "Save prototype as", start, YAML_FILTER)
        if not name:
            return False
        path = Path(name)
        if path.suffix.lower() not in (".yaml", ".yml"):
            path = path.with_suffix(".yaml")
        self._save_to(path, then)
        return True

    def _save_to(self, path: Path, then: Callable[[], None] | None = None) -> None:
        data = to_data(self.document.proto)  # snapshot on the GUI thread; dumping and writing off it
        generation = self._generation

        def done(_result: object) -> None:
            if generation == self._generation:
                self.document.mark_saved(path)
                self.clear_recovery()
            elif path != self.document.path:
                self.document.mark_saved(path)
                self.document.mark_dirty()
            self.state.add_recent(path)
            self._save_state()
            self.sig_recent_changed.emit()
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:
            self.bar.show_message(
                f"Could not save {path}: {exc}. Your changes are still open (and autosaved).", "error"
            )

        Job(lambda: _write_yaml(data, path)).success(done).failure(failed).start()

    def save_sync(self, path: Path | None = None) -> None:
        """Save on the calling thread (closing the app: nothing else must run afterwards)."""
        target = path or self.document.path
        if target is None:
            raise ValueError("no path to save to")
        _write_yaml(to_data(self.document.proto), target)
        self.document.mark_saved(target)
        self.clear_recovery()

    # -- autosave and recovery ---------------------------------------------------------------------

    def autosave_now(self) -> None:
        if not self.document.dirty:
            return
        data = to_data(self.document.proto)
        meta = {
            "path": str(self.document.path) if self.document.path else None,
            "saved": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        }
        yaml_path, meta_path = recovery_paths()

        def write() -> None:
            _write_yaml(data, yaml_path)
            write_atomic(meta_path, json.dumps(meta).encode("utf-8"))

        def done(_result: object) -> None:
            self.autosaves += 1

        Job(write).success(done).failure(
            lambda exc: self.bar.show_message(f"Autosave failed: {exc}", "error")
        ).start()

    def clear_recovery(self) -> None:
        self._autosave.stop()
        for path in recovery_paths():
            with contextlib.suppress(OSError):
                path.unlink()

    def offer_recovery(self) -> bool:
        """If the last session ended with unsaved changes, offer them back. True when there was something.

        Only the existence check runs here; the metadata is read off the GUI thread and the offer
        appears in the message bar when it arrives.
        """
        yaml_path, meta_path = recovery_paths()
        if not yaml_path.is_file():
            return False
        Job(lambda: _read_meta(meta_path)).success(self._offer).failure(lambda _exc: self._offer({})).start()
        return True

    def _offer(self, meta: dict[str, object]) -> None:
        raw = meta.get("path")
        original = raw if isinstance(raw, str) else None
        what = Path(original).name if original else "an unsaved prototype"
        when = meta.get("saved", "recently")
        self.bar.show_message(
            f"Protostudio closed before changes to {what} were saved (autosaved {when}).",
            "info",
            [("Recover", lambda: self.recover(original)), ("Discard", self.clear_recovery)],
        )

    def recover(self, original: str | None) -> None:
        """Read and parse the autosaved copy in the background (it can be large), then open it."""
        yaml_path, _ = recovery_paths()

        def failed(exc: BaseException) -> None:
            self.bar.show_message(f"The autosaved copy could not be read: {exc}", "error")

        Job(lambda: parse_prototype(yaml_path.read_text(encoding="utf-8"), str(yaml_path))).success(
            lambda proto: self._recovered(proto, original)
        ).failure(failed).start()

    def _recovered(self, proto: Prototype, original: str | None) -> None:
        self.document.replace(proto, Path(original) if original else None)
        self.document.mark_dirty()
        self.sig_opened.emit()
        self.bar.show_message("Recovered. Save (Ctrl+S) to keep these changes.", "info")

    # -- closing -----------------------------------------------------------------------------------

    def confirm_discard(self) -> bool:
        """Ask before unsaved changes are dropped. False means: stay."""
        if not self.document.dirty:
            return True
        answer = self.ask_unsaved()
        if answer == "cancel":
            return False
        if answer == "save":
            if self.document.path is None or is_example(self.document.path):
                name, _ = QFileDialog.getSaveFileName(
                    self.window, "Save prototype as", self._suggested(), YAML_FILTER
                )
                if not name:
                    return False
                self.save_sync(Path(name))
            else:
                self.save_sync()
        else:
            self.clear_recovery()
        return True

    def _suggested(self) -> str:
        path = self.document.path
        if path is None:
            return "prototype.yaml"
        return str(copy_suggestion(path) if is_example(path) else path)

    def _ask_unsaved(self) -> Answer:
        name = self.document.path.name if self.document.path else "this prototype"
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Unsaved changes", f"Save the changes to {name}?", parent=self.window
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # the file name is not HTML
        box.setInformativeText(  # a run's answers count too: "ratings and edits" read as "nothing to lose"
            "New answers, ratings and edits since the last save are lost if you don't save them."
        )
        box.setStandardButtons(
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        result = box.exec()
        if result == QMessageBox.StandardButton.Save:
            return "save"
        if result == QMessageBox.StandardButton.Discard:
            return "discard"
        return "cancel"

    def _save_state(self) -> None:
        """Write the UI state off the GUI thread, one write at a time, the newest snapshot last."""
        if self._state_writing:
            self._state_again = True
            return
        self._state_writing = True
        data, path = self.state.encoded(), self.state.path

        def finished(_result: object) -> None:
            self._state_writing = False
            if self._state_again:
                self._state_again = False
                self._save_state()

        Job(lambda: write_atomic(path, data)).success(finished).failure(finished).start()


def _read_meta(path: Path) -> dict[str, object]:
    try:
        meta = jsontext.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}
