"""Thumbnails of a turn's images, read and scaled off the GUI thread; a clear placeholder when a
file is missing or unreadable (the path stays visible, so the designer knows what to restore)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.core.image_refs import resolve_image
from app.core.prototype import ImageRef
from app.ui.jobs import Job

THUMB_SIZE = 40
MISSING_STYLE = (
    "QLabel { border: 1px dashed #b3261e; color: #b3261e; background: #fbeaea; font-size: 7pt; }"
)


def read_thumbnail(path: Path, size: int = THUMB_SIZE) -> QImage:
    """A scaled copy of an image file (QImage is safe off the GUI thread). Raises OSError with the
    reader's reason when the file is missing or not an image."""
    if not path.is_file():
        raise OSError(f"missing: {path}")
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    original = reader.size()
    if original.isValid() and max(original.width(), original.height()) > size:
        reader.setScaledSize(original.scaled(QSize(size, size), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise OSError(f"unreadable image ({reader.errorString()}): {path}")
    return image


class ThumbnailStrip(QWidget):
    """A row of thumbnails; `show_images(refs, prototype_dir)` replaces them."""

    def __init__(self, parent: QWidget | None = None, size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnails")
        self.size_px = size
        self.labels: list[QLabel] = []
        self._generation = 0
        self._shown: object = None
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(3)
        self.row.addStretch(1)
        self.hide()

    def show_images(self, refs: Sequence[ImageRef], prototype_dir: Path | None) -> None:
        """Show these images; nothing is re-read when they are the ones already shown."""
        shown = (tuple((r.path, r.sha256) for r in refs), prototype_dir)
        if shown == self._shown:
            return
        self._shown = shown
        self._generation += 1
        for label in self.labels:
            self.row.removeWidget(label)
            label.deleteLater()
        self.labels = []
        for index, ref in enumerate(refs):
            label = QLabel(self)
            label.setObjectName("thumbnail")
            label.setFixedSize(self.size_px, self.size_px)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setToolTip(ref.path)
            label.setProperty("state", "loading")
            self.labels.append(label)
            self.row.insertWidget(index, label)
            path = resolve_image(ref, prototype_dir)
            generation = self._generation
            (
                Job(lambda p=path, s=self.size_px: read_thumbnail(p, s))
                .owned_by(label)
                .success(lambda image, lb=label, g=generation: self._loaded(lb, g, image))
                .failure(lambda exc, lb=label, g=generation, r=ref: self._missing(lb, g, r, exc))
                .start()
            )
        self.setVisible(bool(refs))

    def states(self) -> list[str]:
        """Each thumbnail's state: loading, shown or missing (for tests)."""
        return [str(label.property("state")) for label in self.labels]

    def _loaded(self, label: QLabel, generation: int, image: QImage) -> None:
        if generation != self._generation:
            return
        label.setPixmap(QPixmap.fromImage(image))
        label.setProperty("state", "shown")

    def _missing(self, label: QLabel, generation: int, ref: ImageRef, exc: BaseException) -> None:
        if generation != self._generation:
            return
        label.setText("missing" if "missing" in str(exc) else "bad\nimage")
        label.setStyleSheet(MISSING_STYLE)
        label.setToolTip(f"{ref.path}\n{exc}")
        label.setProperty("state", "missing")
