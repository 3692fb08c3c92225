"""Attaching an image file to a case turn: the path as the prototype stores it, and its sha256.

A prototype is shared as a text file, so an image is referenced, never embedded: the path is
relative to the prototype's folder (with `/` on every OS, so a file written on Windows reads on a
Mac) and the sha256 lets anyone notice that the image changed since it was attached.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

from app.core.prototype import Case, ImageRef

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
"""The image files a case accepts: what vision models take as `image_url` data URLs."""

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks (an image may be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def relative_image_path(image: Path, prototype_dir: Path) -> str:
    """`image` relative to the prototype's folder, `/`-separated; `..` steps when it lies outside.

    Raises ValueError when no relative path exists (another drive on Windows)."""
    try:
        relative = os.path.relpath(image.resolve(), prototype_dir.resolve())
    except ValueError as exc:
        raise ValueError(f"{image} is on another drive than the prototype; copy it next to the file") from exc
    return PurePosixPath(*Path(relative).parts).as_posix()


def image_ref(image: Path, prototype_dir: Path) -> ImageRef:
    """An `ImageRef` for an image file: relative path and sha256. Raises ValueError for a file
    that is not an image type a case accepts, OSError when it cannot be read."""
    if image.suffix.lower() not in IMAGE_SUFFIXES:
        kinds = ", ".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
        raise ValueError(f"{image.name} is not an image a case can carry ({kinds})")
    return ImageRef(path=relative_image_path(image, prototype_dir), sha256=file_sha256(image))


def resolve_image(ref: ImageRef, prototype_dir: Path | None) -> Path:
    """Where an attached image lives on this machine (relative paths start at the prototype's folder)."""
    path = Path(ref.path)
    if path.is_absolute() or prototype_dir is None:
        return path
    return prototype_dir / path


def image_turn(case: Case) -> int:
    """The turn an image dropped on a case (not on one of its turns) goes to: the last user turn."""
    users = [index for index, turn in enumerate(case.turns) if turn.role == "user"]
    return users[-1] if users else 0


def add_images(case: Case, index: int, refs: list[ImageRef]) -> list[ImageRef]:
    """Attach `refs` to turn `index` of `case`, skipping paths it already carries; returns those added.

    Raises IndexError for a turn the case does not have."""
    turn = case.turns[index]
    known = {ref.path for ref in turn.images}
    added: list[ImageRef] = []
    for ref in refs:
        if ref.path not in known:
            known.add(ref.path)
            added.append(ref)
    if added:
        turns = list(case.turns)
        turns[index] = turn.model_copy(update={"images": [*turn.images, *added]})
        case.turns = turns
    return added
