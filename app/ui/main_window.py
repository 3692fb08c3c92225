"""The main window: navigator | editor | (compare grid, A/B, results, evals), with menus and toolbar."""

from __future__ import annotations

import base64
import contextlib
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.costs import batch_cost
from app.core.prototype import Prototype
from app.core.run_words import progress_words, simulator_words
from app.engine.events import Cell, Progress
from app.engine.plan import RunPlan
from app.ui.compare_grid import CompareGrid
from app.ui.document_model import Document
from app.ui.document_undo import DocumentUndo
from app.ui.editor_panel import EditorPanel
from app.ui.evals_panel import EvalsPanel
from app.ui.file_ops import FileOps, new_prototype
from app.ui.host_confirm import Asker, confirm_hosts, dialog_asker
from app.ui.jobs import Job
from app.ui.message_bar import MessageBar
from app.ui.navigator import Navigator
from app.ui.pairwise import PairwiseView
from app.ui.resources import examples_dir, icon, is_example
from app.ui.results_panel import ResultsPanel
from app.ui.run_controller import RunController
from app.ui.selection import Selection
from app.ui.services import Services
from app.ui.team_panel import TeamPanel
from app.ui.ui_state import UiState

EXAMPLE_NOTE = "Example — Save will ask where to keep your copy"

FIRST_SPLITTER_SIZES = (200, 300, 1000)
"""Navigator, editor, tabs on a first start: at the 1500 px default the cat example's 4 profile
columns fit the width (230/330 left 3.8 of them on screen and a scroll bar)."""
COST_UNKNOWN_TIP = ("cost ?: no price is known for a model of this run (a custom endpoint, say). "
                    "Add one in Settings › Prices.")
STATUS_HINT = "Ctrl+Enter run · Esc stop · arrows move · + / - rate · n note · t tags · r preview/text"

class MainWindow(QMainWindow):
    def __init__(
        self,
        proto: Prototype | None = None,
        path: Path | None = None,
        *,
        services: Services | None = None,
        state: UiState | None = None,
    ) -> None:
        super().__init__()
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.state = state or UiState()
        self.services = services or Services()
        self.document = Document(proto or new_prototype(), path, self)
        self.selection = Selection(self)
        self.selection.reset_for(self.document.proto, self.state.selection_for(path))
        self.controller = RunController(self.document, self.services, self)
        self.ask_host: Asker = dialog_asker(self)
        self.starting = 0
        self._last_progress: Progress | None = None
        self._queued: set[Cell] = set()
        """Runs waiting for their key look-ups (host confirmation) before they start."""
        self.bar = MessageBar()
        self.file_ops = FileOps(self, self.document, self.state, self.bar)

        self.navigator = Navigator(self.document, self.selection)
        self.editor = EditorPanel(self.document, self.services)
        self.grid = CompareGrid(self.document, self.selection, self.controller, state=self.state)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.grid, "Grid")
        self.tabs.setTabToolTip(0, "Columns are profile × model, rows are cases. Run, read, rate.")
        self.extra: dict[str, QWidget] = {}
        self._pending_sizes: list[int] | None = None
        self._add_extra_tabs()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main-splitter")
        for widget in (self.navigator, self.editor, self.tabs):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(2, 1)
        self.splitter.setSizes(list(FIRST_SPLITTER_SIZES))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.bar)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.progress = QLabel("")
        self.progress.setObjectName("run-progress")
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().showMessage(STATUS_HINT)
        # a passing message (6 s) used to leave the bar empty for good: the key hint comes back
        bar = self.statusBar()
        bar.messageChanged.connect(lambda text: text or bar.showMessage(STATUS_HINT))
        self._build_actions()
        self._connect()
        self._restore_layout()
        self.update_title()

    def warm_up(self) -> None:
        """Build the back end in the background (the SDK import, prices; the bundled model when the
        file uses it), so the first Run starts at once. Called once the window has painted."""
        Job(self.services.warm_up).failure(lambda _exc: None).start()  # errors surface on first use
        from app.providers.registry import LOCAL_ID

        if any(m.provider == LOCAL_ID and m.base_url is None for m in self.document.proto.models):
            from app.providers.local_model import shared_local_model

            shared_local_model().warm_up()

    # -- building ----------------------------------------------------------------------------------

    def _add_extra_tabs(self) -> None:
        """Pairwise, results, evals and team: imported like any module, so a broken tab fails loudly."""
        tabs: list[tuple[str, QWidget]] = [
            ("Compare A/B", PairwiseView(self.document, self)),
            ("Results", ResultsPanel(self.document, self)),
            ("Evals", EvalsPanel(self.document, self.services, self.selection, self)),
            ("Team", TeamPanel(self.document, self)),
        ]
        for title, widget in tabs:
            self.extra[title] = widget
            self.tabs.addTab(widget, title)
        pairwise = tabs[0][1]
        assert isinstance(pairwise, PairwiseView)
        pairwise.sig_open_results.connect(lambda: self.tabs.setCurrentWidget(self.extra["Results"]))
        pairwise.sig_change_rater.connect(self.open_rater_settings)

    def _action(
        self,
        text: str,
        slot: object,
        shortcut: str | list[str] | None = None,
        icon_name: str = "",
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut:
            keys = [shortcut] if isinstance(shortcut, str) else shortcut
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        first = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or text} ({first})" if first else (tip or text))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.act_run = self._action(
            "Run",
            lambda: self.run_grid(False),
            ["Ctrl+Return", "Ctrl+Enter"],
            "run",
            "Run every ticked profile × model on every ticked case",
        )
        self.act_rerun = self._action(
            "Re-run (no cache)",
            lambda: self.run_grid(True),
            ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"],
            "rerun",
            "Run again, asking the models even when a cached answer exists",
        )
        self.act_stop = self._action(
            "Stop", self.controller.stop_all, "Esc", "stop", "Stop every running cell"
        )
        self.act_stop.setEnabled(False)
        self.act_new = self._action("New", self.file_ops.new, "Ctrl+N")
        self.act_open = self._action("Open…", self.file_ops.open_dialog, "Ctrl+O")
        self.act_save = self._action("Save", self.save, "Ctrl+S")
        self.act_save_as = self._action("Save as…", self.file_ops.save_as, "Ctrl+Shift+S")
        self.act_quit = self._action("Quit", self.close, "Ctrl+Q")
        self.act_settings = self._action(
            "Settings…", self.open_settings, "Ctrl+,", "settings", "Providers, keys and prices"
        )
        self.act_keys = self._action("Keyboard shortcuts", self.show_shortcuts, "F1")
        self.act_generate = self._action(
            "Generate cases…", self.open_generate, "Ctrl+G", "",
            "A model proposes cases from the behavior spec; you review each one",
        )
        self.act_grid_only = self._action(
            "Grid only", self.toggle_grid_only, "Ctrl+Shift+G", "",
            "Hide the lists and the editor so every column gets the width; again to bring them back",
        )
        self.act_grid_only.setCheckable(True)
        self._sizes_before_grid_only: list[int] | None = None

        menu = self.menuBar().addMenu("&File")
        for action in (self.act_new, self.act_open):
            menu.addAction(action)
        self.recent_menu = menu.addMenu("Open recent")
        self.examples_menu = menu.addMenu("Open example")
        self._fill_examples()
        menu.addSeparator()
        for action in (self.act_save, self.act_save_as):
            menu.addAction(action)
        menu.addSeparator()
        self._add_interop_menus(menu)
        menu.addSeparator()
        menu.addAction(self.act_settings)
        menu.addSeparator()
        menu.addAction(self.act_quit)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.document_undo = DocumentUndo(self, self.document, self.navigator, self.editor, self.bar)
        self.document_undo.add_to(edit_menu)  # the focused text box's undo, else the document's
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.act_grid_only)
        run_menu = self.menuBar().addMenu("&Run")
        for action in (self.act_run, self.act_rerun, self.act_stop):
            run_menu.addAction(action)
        run_menu.addSeparator()
        run_menu.addAction(self.act_generate)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.act_keys)
        self._fill_recent()

        toolbar = self.addToolBar("Run")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.act_run, self.act_rerun, self.act_stop):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.act_settings)

    def _connect(self) -> None:
        self.document.sig_dirty_changed.connect(lambda _dirty: self.update_title())
        self.document.sig_path_changed.connect(self.update_title)
        self.document.sig_structure_changed.connect(self.update_title)
        self.file_ops.sig_opened.connect(self.controller.abandon)
        self.file_ops.sig_opened.connect(self._restore_selection)
        self.selection.sig_changed.connect(self._remember_selection)
        self.file_ops.sig_opened.connect(self.progress.clear)  # "Last run: …" was about the old file
        self.file_ops.sig_recent_changed.connect(self._fill_recent)
        self.navigator.sig_item_selected.connect(self.editor.show_item)
        self.navigator.sig_item_clicked.connect(self.editor.reveal)
        self.controller.sig_busy_changed.connect(self._on_busy)
        self.controller.sig_cell_queued.connect(self._on_queued)
        self.controller.sig_progress.connect(self._on_progress)
        self.controller.sig_error.connect(lambda text: self.bar.show_message(text, "error"))
        self.grid.sig_run_requested.connect(self.run_part)
        self.grid.sig_samples_requested.connect(
            lambda key, n: self.run_part([key[0]], [key[1]], [key[2]], False, n)
        )
        self.grid.sig_message.connect(lambda text: self.statusBar().showMessage(text, 6000))

    # -- title, layout -----------------------------------------------------------------------------

    def update_title(self) -> None:
        path = self.document.path
        where = path.name if path else "unsaved"
        if is_example(path):
            where += f" ({EXAMPLE_NOTE})"
        self.setWindowTitle(f"{self.document.proto.name} — {where}[*] — Protostudio")
        self.setWindowModified(self.document.dirty)

    def _restore_layout(self) -> None:
        geometry = self.state.get("geometry")
        if isinstance(geometry, str):
            with contextlib.suppress(ValueError):
                self.restoreGeometry(QByteArray(base64.b64decode(geometry)))
        else:
            self.resize(1500, 920)
        room = self.screen().availableGeometry()  # never taller or wider than the screen
        if self.width() > room.width() or self.height() > room.height():
            self.resize(min(self.width(), room.width()), min(self.height(), room.height()))
        sizes = self.state.get("splitter")
        if isinstance(sizes, list) and len(sizes) == 3 and all(isinstance(s, int) for s in sizes):
            self._pending_sizes = sizes

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._pending_sizes:  # sizes only stick once the window has its real width
            sizes, self._pending_sizes = self._pending_sizes, None
            self.splitter.setSizes(sizes)

    def _restore_selection(self) -> None:
        """What this person ticked in the newly opened file last time, else the defaults."""
        self.selection.reset_for(self.document.proto, self.state.selection_for(self.document.path))

    def _remember_selection(self) -> None:
        """Keep this person's ticks for this file (written with the rest of the UI state)."""
        self.state.set_selection(self.document.path, self.selection.hidden())

    def _save_layout(self) -> None:
        self._remember_selection()  # also covers a Save As since the last tick
        self.state.set("geometry", base64.b64encode(bytes(self.saveGeometry().data())).decode("ascii"))
        self.state.set("splitter", self.splitter.sizes())
        with contextlib.suppress(OSError):
            self.state.save()

    def _fill_examples(self) -> None:
        """The bundled examples, one click away (File › Open started in the last file's folder, so after
        File › New a designer had no way back to them short of knowing where the app is installed)."""
        paths = sorted(examples_dir().glob("*.yaml")) if examples_dir().is_dir() else []
        for path in paths:
            action = self.examples_menu.addAction(path.stem.replace("-", " ").capitalize())
            action.setToolTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.file_ops.open_path(p))
        self.examples_menu.setEnabled(bool(paths))

    def _add_interop_menus(self, menu: QMenu) -> None:
        """File › Import / Export (promptfoo, openai/evals, DPO); see `interop_ops.py`."""
        from app.ui.interop_ops import EXPORTS, InteropOps

        self.interop = InteropOps(self, self.document, self.file_ops, self.bar)
        self.act_import_promptfoo = menu.addAction("Import promptfoo config…")
        self.act_import_promptfoo.triggered.connect(self.interop.import_dialog)
        export_menu = menu.addMenu("Export")
        self.export_actions: dict[str, QAction] = {}
        for fmt, title in EXPORTS.items():
            action = export_menu.addAction(title)
            action.triggered.connect(lambda _checked=False, f=fmt: self.interop.export_dialog(f))
            self.export_actions[fmt] = action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.state.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.file_ops.open_path(p))
        self.recent_menu.setEnabled(bool(recent))

    # -- running -----------------------------------------------------------------------------------

    def run_grid(self, bypass_cache: bool) -> None:
        self.run_part(None, None, None, bypass_cache)

    def run_part(
        self,
        cases: list[str] | None,
        profiles: list[str] | None,
        models: list[str] | None,
        bypass_cache: bool,
        repeat: int | None = None,
    ) -> None:
        """Run the shown grid, or the part of it named (a row, a cell)."""
        proto = self.document.proto
        self.editor.flush()
        cases = cases or self.selection.shown(proto, "cases")
        profiles = profiles or self.selection.shown(proto, "profiles")
        models = models or self.selection.shown(proto, "models")
        if not (cases and profiles and models):
            self.bar.show_message(
                "Nothing to run: tick at least one profile, one model and one case on the left.", "info"
            )
            return
        targets = [m for m in proto.models if m.id in set(models)]
        samples = repeat or self.grid.layout_prefs.samples  # the grid's "Samples: N", or one cell's ask
        plan = RunPlan(profiles=profiles, models=models, cases=cases, use_cache=not bypass_cache,
                       repeat=samples)
        self.starting += 1

        def start() -> None:
            self.starting -= 1
            self.controller.run(plan)

        # the key look-ups (and, before the warm-up ends, building the hub: the SDK import) run off the
        # GUI thread; the run starts when they (and any question) are done
        confirm_hosts(lambda: self.services.hub, targets, self.ask_host, start, owner=self)
        self.tabs.setCurrentWidget(self.grid)

    def _on_busy(self, busy: bool) -> None:
        self.act_stop.setEnabled(busy)
        if busy:  # the engine's first count comes when a cell ends: a minute away on the bundled model
            self._last_progress = None
            self._queued.clear()
            self.progress.setText("Running: starting…")
        elif self.progress.text() and self._last_progress is not None:
            self._show_progress(self._last_progress, running=False)

    def _on_queued(self, cell: Cell) -> None:
        """Until the first cell ends, say how many are on their way ("Running: 0 of 16 done")."""
        if self._last_progress is None and self.controller.busy:
            self._queued.add(cell)
            if self.controller.conversations:  # its count is replies: say what is starting instead
                self.progress.setText(f"Running: starting {len(self._queued)} cells…")
                return
            self.progress.setText(f"Running: {progress_words(0, len(self._queued), running=True)}")

    def _on_progress(self, progress: Progress) -> None:
        self._last_progress = progress
        self._show_progress(progress, running=True)

    def _show_progress(self, progress: Progress, *, running: bool) -> None:
        """"Running: 8 of 16 done", and once ended what really happened: "12 done, 4 cancelled"."""
        cost = batch_cost(progress.cost_usd, progress.cost_unknown)
        words = progress_words(progress.done, progress.total, progress.failed, progress.cancelled,
                               running=running, replies=self.controller.conversations)
        simulator = simulator_words(progress.simulator_calls, progress.simulator_tokens,
                                    progress.simulator_cost_usd, progress.simulator_cost_unknown)
        self.progress.setText(
            f"{'Running' if running else 'Last run'}: {words} · {progress.tokens:,} tokens"
            + (f" · {cost}" if cost else "")
            + (f" (+ {simulator})" if simulator else "")
        )
        self.progress.setToolTip(COST_UNKNOWN_TIP if "?" in cost else "")

    # -- files -------------------------------------------------------------------------------------

    def save(self) -> None:
        self.editor.flush()
        self._commit_focused_edit()
        self.file_ops.save()

    def _commit_focused_edit(self) -> None:
        """A note being typed is committed when it loses focus; make that happen before saving."""
        focused = QApplication.focusWidget()
        if focused is not None and focused.objectName() in ("cell-note", "cell-tags"):
            focused.editingFinished.emit()  # type: ignore[attr-defined]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile() and urls[0].toLocalFile().lower().endswith((".yaml", ".yml")):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            self.file_ops.open_path(Path(urls[0].toLocalFile()))
            event.acceptProposedAction()

    # -- dialogs -----------------------------------------------------------------------------------

    def open_settings(self) -> None:
        from app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.services, self.document.proto, self)
        dialog.rater.sig_rater_changed.connect(self.document.set_rater)
        dialog.exec()

    def open_rater_settings(self) -> None:
        """Settings on its "You (rater)" page: who votes and rates from now on (A/B's "Switch rater…")."""
        from app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.services, self.document.proto, self)
        dialog.rater.sig_rater_changed.connect(self.document.set_rater)
        pages = dialog.findChild(QTabWidget)
        if pages is not None:
            pages.setCurrentWidget(dialog.rater)
        dialog.exec()

    def open_generate(self) -> None:
        """The Generate cases dialog (one per window, non-modal), on this window's document and engine."""
        from app.ui.generate_dialog import GenerateDialog

        dialog = getattr(self, "generate_dialog", None)
        if dialog is None:
            dialog = self.generate_dialog = GenerateDialog(self.document, self.services, self)
        dialog.show()
        dialog.raise_()
    def toggle_grid_only(self) -> None:
        """The grid (and the other tabs) alone across the window: 4 profiles x 3 models need the room."""
        if self._sizes_before_grid_only is None:
            self._sizes_before_grid_only = self.splitter.sizes()
            self.splitter.setSizes([0, 0, sum(self._sizes_before_grid_only)])
            self.act_grid_only.setChecked(True)
        else:
            self.splitter.setSizes(self._sizes_before_grid_only)
            self._sizes_before_grid_only = None
            self.act_grid_only.setChecked(False)

    def show_shortcuts(self) -> None:
        from app.ui.keys_help import KeysDialog

        self.keys_dialog = KeysDialog(self)
        self.keys_dialog.show()

    # -- closing -----------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.editor.flush()
        self._commit_focused_edit()
        if not self.file_ops.confirm_discard():
            event.ignore()
            return
        self._save_layout()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop runs and background threads. Safe to call twice."""
        self.controller.stop_all()
        self.services.close()
        from app.ui.jobs import wait_for_jobs

        wait_for_jobs()
