"""Dropping image files onto a case: which drops are images, and attaching them off the GUI thread
(hashing a large photo takes a moment). The path and hash rules are the core's (`image_refs`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject

from app.core.image_refs import IMAGE_SUFFIXES, image_ref
from app.core.prototype import ImageRef
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
