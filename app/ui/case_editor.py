"""Edit one case: its multi-turn conversation and the `{{var}}` values it fills in."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QPoint, QSignalBlocker, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.image_refs import add_images, image_turn
from app.core.placeholders import unset_vars
from app.core.prototype import Case, ImageRef, Profile, Turn
from app.core.simulation import fewest_turns
from app.ui.highlight import VarHighlighter
from app.ui.list_header import list_header
from app.ui.previews.image_drop import attach_images, dropped_images
from app.ui.previews.thumbnails import ThumbnailStrip
from app.ui.resources import icon
from app.ui.simulated_user_editor import SimulatedUserEditor


class _TurnRow(QWidget):
    def __init__(self, editor: CaseEditor, index: int, turn: Turn) -> None:
        super().__init__()
        self.index = index
        self.thumbs = ThumbnailStrip(self)
        self.thumbs.setToolTip("Images sent with this turn (drop image files here to attach more)")
        self.thumbs.show_images(turn.images, editor.prototype_dir())
        self.role = QComboBox()
        self.role.addItem("User", "user")
        self.role.addItem("Assistant (fixed history)", "assistant")
        self.role.setCurrentIndex(0 if turn.role == "user" else 1)
        self.text = QPlainTextEdit(turn.content)
        self.text.setMaximumHeight(72)
        self.text.setPlaceholderText("What this side says")
        VarHighlighter(self.text.document())
        remove = QToolButton()
        remove.setIcon(icon("delete"))
        remove.setToolTip("Remove this turn")
        remove.setAccessibleName("Remove this turn")
        remove.clicked.connect(lambda: editor.remove_turn(index))
        top = QHBoxLayout()
        top.addWidget(QLabel(f"Turn {index + 1}"))
        top.addWidget(self.role, 1)
        top.addWidget(remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addLayout(top)
        layout.addWidget(self.text)
        layout.addWidget(self.thumbs)
        self.role.currentIndexChanged.connect(editor.turns_edited)
        self.text.textChanged.connect(editor.turns_edited)


class CaseEditor(QWidget):
    """Writes edits straight into the case and reports them through `on_edit(structural)`."""

    def __init__(
        self,
        on_edit: Callable[[bool], None],
        parent: QWidget | None = None,
        prototype_dir: Callable[[], Path | None] = lambda: None,
        profiles: Callable[[], Sequence[Profile]] = lambda: (),
    ) -> None:
        super().__init__(parent)
        self._on_edit = on_edit
        self.profiles = profiles
        """The file's profiles: their prompts may use `{{vars}}` this case must set."""
        self.prototype_dir = prototype_dir
        """The open prototype's folder (None while unsaved): image paths are relative to it."""
        self.setAcceptDrops(True)
        self.image_message = QLabel()
        self.image_message.setObjectName("case-image-message")
        self.image_message.setTextFormat(Qt.TextFormat.PlainText)
        self.image_message.setWordWrap(True)
        self.image_message.setStyleSheet("color: #b3261e;")
        self.image_message.hide()
        self.case: Case | None = None
        self._rows: list[_TurnRow] = []
        self._models: list[str] = []
        self.heading = QLabel()
        self.description = QLineEdit()
        self.description.setPlaceholderText("Short name shown on the grid row (optional)")
        self.description.textEdited.connect(self._description_edited)
        self.turns_box = QVBoxLayout()
        self.turns_box.addStretch(1)
        turns_widget = QWidget()
        turns_widget.setLayout(self.turns_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(turns_widget)
        add_turn = QPushButton(icon("add"), "Add turn")
        add_turn.setToolTip("Add a message to the conversation (user and assistant turns alternate)")
        add_turn.clicked.connect(self.add_turn)
        self.vars = QTableWidget(0, 2)
        self.vars.setObjectName("case-vars")
        self.vars.setHorizontalHeaderLabels(["Variable", "Value"])
        self.vars.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.vars.verticalHeader().setVisible(False)
        self.vars.setMaximumHeight(140)
        self.vars.setTabKeyNavigation(False)  # Tab leaves the table in one press; arrows move between cells
        self.vars.itemChanged.connect(self._vars_edited)
        vars_head = list_header(
            "Vars: fill {{name}} in prompts and turns", on_add=self.add_var, on_remove=self.remove_var,
            add_tip="Add a variable", remove_tip="Remove the selected variable",
        )
        form = QFormLayout()
        form.addRow("Name", self.description)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        conversation = QLabel("Conversation <span style='color:gray'>(drop images onto a turn to attach "
                              "them)</span>")
        conversation.setWordWrap(True)  # on one line it held the editor pane wider than its 300 px default
        layout.addWidget(conversation)
        layout.addWidget(self.image_message)
        layout.addWidget(scroll, 3)
        layout.addWidget(add_turn)
        layout.addLayout(vars_head)
        layout.addWidget(self.vars, 1)
        self.unset_note = QLabel()
        self.unset_note.setObjectName("case-unset-vars")
        self.unset_note.setWordWrap(True)
        self.unset_note.setStyleSheet("color: #8a5300;")
        self.unset_note.hide()
        layout.addWidget(self.unset_note)
        self.simulated_user = SimulatedUserEditor(on_edit)
        layout.addWidget(QLabel("Simulated user"))
        layout.addWidget(self.simulated_user)

    def set_case(self, case: Case, models: Sequence[str] | None = None) -> None:
        """Show `case`; `models` are the file's model target ids (who may play a simulated user),
        None: the ones given last."""
        self.case = case
        if models is not None:
            self._models = list(models)
        self.simulated_user.set_case(case, self._models)
        self.heading.setText(f"<b>Case</b> <span style='color:gray'>id: {html.escape(case.id)}</span>")
        with QSignalBlocker(self.description):
            self.description.setText(case.description)
        self._rebuild_turns()
        with QSignalBlocker(self.vars):
            self.vars.setRowCount(0)
            for name, value in case.vars.items():
                row = self.vars.rowCount()
                self.vars.insertRow(row)
                self.vars.setItem(row, 0, QTableWidgetItem(name))
                self.vars.setItem(row, 1, QTableWidgetItem(value))
        self.show_unset_vars()

    def show_unset_vars(self) -> None:
        """Warn about `{{names}}` this case would send as written because its vars don't set them."""
        missing = unset_vars(self.case, self.profiles()) if self.case is not None else {}
        lines = [
            f"⚠ {{{{{name}}}}} is used in {where}, but this case sets no value for it: the model would "
            f"see the braces as written. Add it under Vars."
            for name, where in missing.items()
        ]
        self.unset_note.setText("\n".join(lines))
        self.unset_note.setVisible(bool(lines))

    def _rebuild_turns(self) -> None:
        for row in self._rows:
            row.setParent(None)
            row.deleteLater()
        self._rows = []
        if self.case is None:
            return
        for index, turn in enumerate(self.case.turns):
            row = _TurnRow(self, index, turn)
            self._rows.append(row)
            self.turns_box.insertWidget(index, row)

    # -- edits -------------------------------------------------------------------------------------

    def _description_edited(self) -> None:
        if self.case is not None:
            self.case.description = self.description.text()
            self._on_edit(True)

    def turns_edited(self) -> None:
        if self.case is None:
            return
        kept = [turn.images for turn in self.case.turns]  # images are attached by drops, not typed
        turns = [
            Turn(role=row.role.currentData(), content=row.text.toPlainText(),
                 images=kept[i] if i < len(kept) else [])
            for i, row in enumerate(self._rows)
        ]
        if len(turns) >= fewest_turns(self.case) and turns != self.case.turns:  # highlighters re-emit
            self.case.turns = turns
            self.show_unset_vars()
            self._on_edit(True)

    def add_turn(self) -> None:
        if self.case is None:
            return
        role = "assistant" if self.case.turns and self.case.turns[-1].role == "user" else "user"
        self.case.turns = [*self.case.turns, Turn(role=role, content="")]
        self._rebuild_turns()
        self._rows[-1].text.setFocus()
        self._on_edit(True)

    def remove_turn(self, index: int) -> None:
        if self.case is None or len(self.case.turns) <= fewest_turns(self.case):
            return  # a case needs a turn, unless its simulated user writes the first message
        turns = list(self.case.turns)
        del turns[index]
        self.case.turns = turns
        self._rebuild_turns()
        self._on_edit(True)

    # -- images --------------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.case is not None and dropped_images(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self.case is not None and dropped_images(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = dropped_images(event.mimeData())
        if self.case is None or not files:
            return
        event.acceptProposedAction()
        self.attach_files(files, self._turn_at(event.position().toPoint()))

    def _turn_at(self, point: QPoint) -> int:
        """The turn under a drop point; elsewhere, the core's choice (the last user turn)."""
        for row in self._rows:
            if row.rect().contains(row.mapFrom(self, point)):
                return row.index
        return image_turn(self.case) if self.case else 0

    def attach_files(self, files: list[Path], index: int) -> None:
        """Attach image files to turn `index` (hashed in the background); errors show above the turns."""
        case = self.case
        self.image_message.hide()

        def done(refs: list[ImageRef]) -> None:
            if self.case is not case or case is None or index >= len(case.turns):
                return  # another case is shown now
            if add_images(case, index, refs):
                self._rebuild_turns()
                self._on_edit(True)

        attach_images(files, self.prototype_dir(), self, done, self._image_problem)

    def refresh_images(self) -> None:
        """Show the case's images again (they may have been attached elsewhere, e.g. in the grid)."""
        if self.case is None:
            return
        for row, turn in zip(self._rows, self.case.turns, strict=False):
            row.thumbs.show_images(turn.images, self.prototype_dir())

    def _image_problem(self, message: str) -> None:
        self.image_message.setText(message)
        self.image_message.show()

    def add_var(self) -> None:
        if self.case is None:
            return
        name = "var"
        n = 2
        while name in self.case.vars:
            name = f"var{n}"
            n += 1
        self.case.vars = {**self.case.vars, name: ""}
        self.set_case(self.case)
        self._on_edit(False)

    def remove_var(self) -> None:
        row = self.vars.currentRow()
        if self.case is None or row < 0:
            return
        self.vars.removeRow(row)
        self._vars_edited()

    def _vars_edited(self) -> None:
        if self.case is None:
            return
        values: dict[str, str] = {}
        for row in range(self.vars.rowCount()):
            name_item, value_item = self.vars.item(row, 0), self.vars.item(row, 1)
            name = name_item.text().strip() if name_item else ""
            if name:
                values[name] = value_item.text() if value_item else ""
        if values != self.case.vars:
            self.case.vars = values
            self.show_unset_vars()
            self._on_edit(False)
