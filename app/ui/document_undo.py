"""Edit › Undo / Redo: the focused text box's own history while it has one, else the document's.

The document history (`app/core/history.py`, through `Document.undo_structure`) covers adding,
duplicating, deleting, renaming and reordering profiles, models and cases. A text box with
nothing to undo lets Ctrl+Z through to the window, so after deleting a case and clicking into a
prompt, Ctrl+Z still brings the case back.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow, QMenu, QPlainTextEdit, QTextEdit, QWidget

from app.core import history
from app.core.history import Done, Step
from app.ui.document_model import Document
from app.ui.editor_panel import EditorPanel
from app.ui.message_bar import MessageBar
from app.ui.navigator import Navigator


def text_box_can(widget: QWidget | None, method: str) -> bool:
    """Whether this widget is an editable text box with something to undo (`method` "undo") or redo."""
    if isinstance(widget, QLineEdit):
        available = widget.isUndoAvailable() if method == "undo" else widget.isRedoAvailable()
        return available and not widget.isReadOnly()
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        doc = widget.document()
        available = doc.isUndoAvailable() if method == "undo" else doc.isRedoAvailable()
        return available and not widget.isReadOnly()
    return False


_KEYS = ((QKeySequence.StandardKey.Undo, "undo"), (QKeySequence.StandardKey.Redo, "redo"))


def _menu_text(text: str) -> str:
    return text.replace("&", "&&")  # ids are shown as typed; "&" is a mnemonic in menus


class DocumentUndo(QObject):
    """Owns the Undo and Redo actions, routes them, names what they will undo, and offers Undo after
    a delete in the message bar."""

    def __init__(
        self, window: QMainWindow, document: Document, navigator: Navigator, editor: EditorPanel,
        bar: MessageBar,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.document = document
        self.navigator = navigator
        self.editor = editor
        self.bar = bar
        self._offer: tuple[str, Step] | None = None
        """The message bar's "Deleted …" text and the undo step its Undo button stands for."""
        self._filtered: QWidget | None = None
        self.act_undo = self._make("Undo", QKeySequence.StandardKey.Undo, self.undo)
        self.act_redo = self._make("Redo", QKeySequence.StandardKey.Redo, self.redo)
        for action, verb in ((self.act_undo, "Undo"), (self.act_redo, "Redo")):
            action.setToolTip(f"{verb} typing in the focused text box, else the last add, duplicate, "
                              "delete, rename or reorder of a profile, model or case")
        document.sig_history_changed.connect(self._on_history_changed)
        navigator.sig_deleted.connect(self.offer_undo)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)
        self.update_texts()

    def _make(self, text: str, keys: QKeySequence.StandardKey, slot: object) -> QAction:
        action = QAction(text, self.window)
        action.setShortcuts(keys)  # every platform binding (Ctrl+Shift+Z and Ctrl+Y for Redo)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    def add_to(self, menu: QMenu) -> None:
        menu.addAction(self.act_undo)
        menu.addAction(self.act_redo)
        menu.aboutToShow.connect(self.update_texts)

    # -- acting ------------------------------------------------------------------------------------

    def undo(self) -> None:
        self._act("undo")

    def redo(self) -> None:
        self._act("redo")

    def _act(self, method: str) -> None:
        focused = QApplication.focusWidget()
        if text_box_can(focused, method):
            getattr(focused, method)()
            return
        self.editor.flush()  # a name being typed lands first, so it is not lost to the undo
        words = self.document.history.undo_words() if method == "undo" else self.document.history.redo_words()
        try:
            done = self.document.undo_structure() if method == "undo" else self.document.redo_structure()
        except history.Blocked as exc:  # the file changed around the step: say why, change nothing
            self.bar.show_message(f"Cannot {method} {words}: {exc}.", "error")
            return
        if done is None:
            self.window.statusBar().showMessage(f"Nothing to {method}.", 4000)
            return
        self._show(done)
        verb = "Undid" if method == "undo" else "Redid"
        self.window.statusBar().showMessage(f"{verb} {done.words}.", 6000)

    def _show(self, done: Done) -> None:
        """Select the item the step concerned (and refresh its editor: a rename changed its fields)."""
        if any(i.id == done.item_id for i in getattr(self.document.proto, done.kind)):
            self.navigator.select(done.kind, done.item_id)
            self.editor.show_item(done.kind, done.item_id)

    # -- words -------------------------------------------------------------------------------------

    def update_texts(self) -> None:
        """"Undo delete case 'tip-mid-roleplay'", or plain "Undo" while a text box has its own."""
        focused = QApplication.focusWidget()
        for action, method, words in (
            (self.act_undo, "Undo", self.document.history.undo_words()),
            (self.act_redo, "Redo", self.document.history.redo_words()),
        ):
            if text_box_can(focused, method.lower()) or words is None:
                action.setText(method)
            else:
                action.setText(_menu_text(f"{method} {words}"))

    def offer_undo(self, done: Done) -> None:
        """After a delete: what went, and an Undo button (the status bar says it for an empty item)."""
        text = history.deleted_words(done)
        if not done.runs:
            self.window.statusBar().showMessage(f"{text} Ctrl+Z brings it back.", 6000)
            return
        step = self.document.history.undo_steps[-1]
        self.bar.show_message(text, "info", [("Undo", lambda: self._undo_offered(step))])
        self._offer = (text, step)

    def _undo_offered(self, step: Step) -> None:
        steps = self.document.history.undo_steps
        if steps and steps[-1] is step:
            self.undo()  # the bar's button: the document, whatever has focus
        self._offer = None

    def _on_history_changed(self) -> None:
        self.update_texts()
        offer = self._offer
        steps = self.document.history.undo_steps
        if offer is not None and not (steps and steps[-1] is offer[1]):
            if self.bar.text() == offer[0]:
                self.bar.dismiss()  # its Undo would now undo something else
            self._offer = None

    # -- keys --------------------------------------------------------------------------------------

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Watch the focused text box's Ctrl+Z: it keeps the key only while it has something to undo."""
        if self._filtered is not None:
            with contextlib.suppress(RuntimeError):  # the box was deleted meanwhile
                self._filtered.removeEventFilter(self)
            self._filtered = None
        if isinstance(new, QLineEdit | QTextEdit | QPlainTextEdit) and new.window() is self.window:
            new.installEventFilter(self)
            self._filtered = new

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            for keys, method in _KEYS:
                if event.matches(keys) and isinstance(watched, QWidget) and not text_box_can(watched, method):
                    event.ignore()
                    return True  # not the text box's: the window's Undo action gets the key
        return False
