"""The prototype navigator: profiles, model targets and cases, each a list you can edit and reorder.

A tick shows an item in the compare grid (profiles and models make columns, cases make rows).
Selecting an item opens it in the editor. Drag to reorder.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core import history, structure
from app.core.structure import Kind
from app.ui.document_model import Document
from app.ui.plain import plain_tip
from app.ui.resources import icon
from app.ui.selection import Selection

TITLES: dict[Kind, tuple[str, str]] = {
    "profiles": ("Profiles", "Behavior variants. Ticked profiles become columns of the grid."),
    "models": ("Models", "Model targets. Ticked models become columns (one per profile)."),
    "cases": ("Cases", "Conversations to try. Ticked cases become rows of the grid."),
}
SINGULAR: dict[Kind, str] = {"profiles": "profile", "models": "model target", "cases": "case"}


NAVIGATOR_KEYS: tuple[tuple[str, str, Qt.Key], ...] = (
    ("F2", "Rename the selected profile, model or case", Qt.Key.Key_F2),
    ("Delete", "Delete the selected item (asks first)", Qt.Key.Key_Delete),
)
"""(shown, what it does, key): read by the list's key handling and by F1."""


class _FitWidthDelegate(QStyledItemDelegate):
    """Rows as wide as the list, never wider: a long name is then elided (in the middle) where the list
    ends instead of being cut off there (QListView lays rows out at their text's full width)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(1, hint.height())


class _ItemList(QListWidget):
    """One section's list; drag-and-drop moves items within it only.

    Long names (cases especially) often differ only at their end ("..., angry" / "..., polite"), so
    they are elided in the middle to the list's width, and the row's tooltip has the whole name.
    Widen the navigator with the splitter handle for more: its size is kept in the UI state."""

    sig_reordered = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setItemDelegate(_FitWidthDelegate(self))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)

    sig_rename = Signal()
    sig_delete = Signal()

    def dropEvent(self, event: QDropEvent) -> None:
        super().dropEvent(event)
        self.sig_reordered.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        for _shown, _what, key in NAVIGATOR_KEYS:
            if event.key() == key:
                (self.sig_rename if key == Qt.Key.Key_F2 else self.sig_delete).emit()
                return
        super().keyPressEvent(event)


class _Section(QWidget):
    def __init__(self, navigator: Navigator, kind: Kind) -> None:
        super().__init__(navigator)
        self.kind = kind
        self.nav = navigator
        title, tip = TITLES[kind]
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        label = QLabel(f"<b>{title}</b>")
        label.setToolTip(tip)
        header.addWidget(label)
        header.addStretch(1)
        noun = SINGULAR[kind]
        for name, text, slot in (
            ("add", f"Add a {noun}", self.on_add),
            ("duplicate", f"Duplicate the selected {noun}", self.on_duplicate),
            ("rename", f"Rename the selected {noun} (F2)", self.on_rename),
            ("delete", f"Delete the selected {noun} (Del)", self.on_delete),
        ):
            button = QToolButton(self)
            button.setIcon(icon(name))
            button.setToolTip(text)
            button.setAccessibleName(text)  # icon only: what a screen reader says
            button.setAutoRaise(True)
            button.setObjectName(f"{kind}-{name}")
            button.clicked.connect(slot)
            header.addWidget(button)
        self.list = _ItemList(self)
        self.list.setObjectName(f"nav-{kind}")
        self.list.setToolTip(tip + " Drag to reorder; double-click to rename.")
        self.list.itemChanged.connect(self.on_item_changed)
        self.list.currentItemChanged.connect(self.on_current_changed)
        self.list.itemClicked.connect(self.on_clicked)
        self.list.itemDoubleClicked.connect(lambda _item: self.on_rename())
        self.list.sig_reordered.connect(self.on_reordered)
        self.list.sig_rename.connect(self.on_rename)
        self.list.sig_delete.connect(self.on_delete)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.list)

    # -- model -> view -----------------------------------------------------------------------------

    def reload(self) -> None:
        proto = self.nav.document.proto
        current, current_row = self.current_id(), self.list.currentRow()
        if current not in {item.id for item in structure.items(proto, self.kind)}:
            current = None  # its id followed a new name (`structure.follow_name`): keep the row
        with QSignalBlocker(self.list):
            self.list.clear()
            for n, item in enumerate(structure.items(proto, self.kind)):
                row = QListWidgetItem(structure.label(item))
                row.setData(Qt.ItemDataRole.UserRole, item.id)
                row.setToolTip(plain_tip(f"{structure.label(item)}\nid: {item.id}"))
                row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
                shown = self.nav.selection.is_shown(self.kind, item.id)
                row.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)
                self.list.addItem(row)
                if item.id == current or (current is None and n == current_row):
                    self.list.setCurrentItem(row)

    def current_id(self) -> str | None:
        row = self.list.currentItem()
        return None if row is None else str(row.data(Qt.ItemDataRole.UserRole))

    def select(self, item_id: str) -> None:
        for n in range(self.list.count()):
            if self.list.item(n).data(Qt.ItemDataRole.UserRole) == item_id:
                self.list.setCurrentRow(n)
                return

    # -- view -> model -----------------------------------------------------------------------------

    def on_item_changed(self, row: QListWidgetItem) -> None:
        item_id = str(row.data(Qt.ItemDataRole.UserRole))
        self.nav.selection.set_shown(self.kind, item_id, row.checkState() == Qt.CheckState.Checked)

    def on_current_changed(self, row: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if row is not None:
            self.nav.item_selected(self.kind, str(row.data(Qt.ItemDataRole.UserRole)))

    def on_clicked(self, row: QListWidgetItem) -> None:
        """A click on the row that is already current (say the first row of a file just opened, which
        is highlighted with nothing in the editor) opens it too; other rows come by currentItemChanged."""
        self.nav.sig_item_clicked.emit(self.kind, str(row.data(Qt.ItemDataRole.UserRole)))

    def on_reordered(self) -> None:
        ids = tuple(str(self.list.item(n).data(Qt.ItemDataRole.UserRole)) for n in range(self.list.count()))
        if ids != tuple(i.id for i in structure.items(self.nav.document.proto, self.kind)):
            self.nav.document.edit_structure(history.Reorder(self.kind, ids))

    def on_add(self) -> None:
        self.select(self.nav.document.edit_structure(history.Add(self.kind)).item_id)

    def on_duplicate(self) -> None:
        item_id = self.current_id()
        if item_id is None:
            return
        self.select(self.nav.document.edit_structure(history.Duplicate(self.kind, item_id)).item_id)

    def on_rename(self) -> None:
        item_id = self.current_id()
        if item_id is None:
            return
        proto = self.nav.document.proto
        item = next(i for i in structure.items(proto, self.kind) if i.id == item_id)
        name, ok = QInputDialog.getText(
            self,
            f"Rename {SINGULAR[self.kind]}",
            "Name shown in lists and columns:",
            text=structure.label(item),
        )
        if ok and name.strip():
            renamed = self.nav.document.edit_structure(history.Rename(self.kind, item_id, name.strip()))
            new_id = renamed.item_id
            if new_id != item_id:
                self.select(new_id)
                self.nav.item_selected(self.kind, new_id)

    def on_delete(self) -> None:
        item_id = self.current_id()
        if item_id is None:
            return
        proto = self.nav.document.proto
        runs = structure.runs_of(proto, self.kind, item_id)
        if runs and not self.nav.confirm(
            f"Delete {SINGULAR[self.kind]} {item_id!r} and its {len(runs)} result(s) and ratings?"
        ):
            return
        done = self.nav.document.edit_structure(history.Delete(self.kind, item_id))
        self.nav.item_selected(self.kind, None)
        self.nav.sig_deleted.emit(done)


class Navigator(QWidget):
    """Three sections stacked: profiles, models, cases."""

    sig_item_selected = Signal(str, object)
    """(kind, id or None): the person picked an item to edit."""
    sig_item_clicked = Signal(str, str)
    """(kind, id): a row was clicked, maybe the current one (the editor shows it if it does not yet)."""
    sig_deleted = Signal(object)
    """(history.Done): the person deleted an item (the window offers Undo)."""

    def __init__(self, document: Document, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.selection = selection
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.sections = {kind: _Section(self, kind) for kind in structure.KINDS}
        for kind, section in self.sections.items():
            layout.addWidget(section, 3 if kind == "cases" else 2)
        document.sig_structure_changed.connect(self.reload)
        selection.sig_changed.connect(self.reload)
        self.reload()

    def reload(self) -> None:
        for section in self.sections.values():
            section.reload()

    def item_selected(self, kind: Kind, item_id: str | None) -> None:
        for other, section in self.sections.items():
            if other != kind and item_id is not None:
                with QSignalBlocker(section.list):
                    section.list.setCurrentItem(None)
        self.sig_item_selected.emit(kind, item_id)

    def select(self, kind: Kind, item_id: str) -> None:
        self.sections[kind].select(item_id)

    def confirm(self, question: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Protostudio", question, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)  # the question quotes names from the file
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes
