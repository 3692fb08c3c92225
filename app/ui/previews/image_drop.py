"""Dropping image files onto a case: which drops are images, and attaching them off the GUI thread
(hashing a large photo takes a moment). The path and hash rules are the core's (`image_refs`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QWidget

from app.core.image_refs import IMAGE_SUFFIXES, add_images, image_ref, image_turn
from app.core.prototype import ImageRef
from app.ui.document_model import Document
from app.ui.jobs import Job

NEEDS_SAVED_FILE = "Save the prototype first: an image is stored as a path relative to the prototype file."


def dropped_images(mime: QMimeData) -> list[Path]:
    """The local image files in a drag, in order (other files are ignored)."""
    return [
        Path(url.toLocalFile()) for url in mime.urls()
        if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES
    ]


def attach_images(
    files: list[Path],
    prototype_dir: Path | None,
    owner: QObject,
    done: Callable[[list[ImageRef]], None],
    failed: Callable[[str], None],
) -> None:
    """Hash `files` in the background, then `done(refs)` on the GUI thread (or `failed(message)`)."""
    if prototype_dir is None:
        failed(NEEDS_SAVED_FILE)
        return
    folder = prototype_dir
    (
        Job(lambda: [image_ref(path, folder) for path in files])
        .owned_by(owner)
        .success(done)
        .failure(lambda exc: failed(f"Could not attach the image: {exc}"))
        .start()
    )


class ImageDropTarget(QObject):
    """Makes any widget (a case's row header in the grid) accept image files and hand them over:
    an event filter, so the widget's own class stays as it is."""

    def __init__(self, widget: QWidget, on_drop: Callable[[list[Path]], None]) -> None:
        super().__init__(widget)
        self._on_drop = on_drop
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(event, QDragMoveEvent):
            if dropped_images(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
            files = dropped_images(event.mimeData())
            if files:
                event.acceptProposedAction()
                self._on_drop(files)
                return True
        return False


def attach_to_case(
    document: Document, case_id: str, files: list[Path], owner: QObject, report: Callable[[str], None]
) -> None:
    """Image files dropped on a case in the grid: attached to the core's turn (the last user turn),
    then the document announces the edit (row thumbnails, editor, save state follow)."""
    folder = document.path.parent if document.path else None

    def done(refs: list[ImageRef]) -> None:
        try:
            case = document.proto.case(case_id)
        except KeyError:
            return  # the case was deleted meanwhile
        added = add_images(case, image_turn(case), refs)
        if added:
            document.structure_edited()
        report(f"Attached {len(added)} image(s) to case {case_id}." if added
               else "Those images are already attached to this case.")

    attach_images(files, folder, owner, done, report)
