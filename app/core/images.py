"""Images attached to case turns: attaching (sha256), checking, and encoding for a request.

A turn's `images:` lists paths relative to the prototype file, each with the sha256 recorded when it
was attached, so a shared file stays small and diffable and a changed image is noticed. The limits
are OpenAI's documented image-input limits (platform.openai.com/docs/guides/images-vision, "Image
input requirements"): PNG, JPEG, WEBP or non-animated GIF, up to 20 MB per image and 50 MB of image
bytes per request. Other providers are at or above them (Gemini's inline data: 20 MB per request).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import PrototypeError
from app.core.image_refs import image_turn, relative_image_path
from app.core.locate import locate
from app.core.prototype import ImageRef, Message, Prototype

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Per image: OpenAI's documented limit ("up to 20MB per image")."""
MAX_REQUEST_IMAGE_BYTES = 50 * 1024 * 1024
"""All images of one request together: OpenAI's documented limit ("up to 50 MB image bytes per request")."""

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
)


class ImageError(ValueError):
    """An attached image cannot be sent: missing, unreadable, oversize or changed since attached."""


@dataclass(frozen=True)
class LoadedImage:
    """An image's bytes checked against its reference, ready to encode."""

    ref: ImageRef
    mime: str
    data: bytes

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def mime_of(head: bytes) -> str | None:
    """The image type from the first bytes (PNG, JPEG, GIF, WEBP), or None when it is none of these."""
    for magic, offset, mime in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def resolve(base_dir: str | os.PathLike[str] | None, ref: ImageRef) -> Path:
    """Where an image reference points: relative to the prototype's folder (or the working folder)."""
    path = Path(ref.path).expanduser()
    return path if path.is_absolute() or base_dir is None else Path(base_dir) / path


def load_image(base_dir: str | os.PathLike[str] | None, ref: ImageRef) -> LoadedImage:
    """Read and check one image. Raises ImageError with a message that names the file and the limit."""
    path = resolve(base_dir, ref)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageError(f"image {ref.path!r} not found (looked at {path})") from None
    except OSError as exc:
        raise ImageError(f"image {ref.path!r} cannot be read: {exc.strerror or exc}") from None
    if not path.is_file():
        raise ImageError(f"image {ref.path!r} is not a file")
    if size > MAX_IMAGE_BYTES:
        raise ImageError(f"image {ref.path!r} is {_mb(size)}, over the {_mb(MAX_IMAGE_BYTES)} limit "
                         "per image (OpenAI's documented image-input limit)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"image {ref.path!r} cannot be read: {exc.strerror or exc}") from None
    mime = mime_of(data[:16])
    if mime is None:
        raise ImageError(f"image {ref.path!r} is not a PNG, JPEG, WEBP or GIF image")
    if ref.sha256 is not None and hashlib.sha256(data).hexdigest() != ref.sha256:
        raise ImageError(f"image {ref.path!r} changed since it was attached (sha256 differs); "
                         "attach it again to accept the new file")
    return LoadedImage(ref, mime, data)


def attach(base_dir: str | os.PathLike[str] | None, path: str | os.PathLike[str]) -> ImageRef:
    """A reference to an image file for a turn: its path relative to the prototype's folder when it
    lies under it (else as given), with its sha256. Raises ImageError when it could not be sent."""
    given = Path(path)
    try:  # the same path rule as dropping an image in the app (`image_refs.relative_image_path`)
        shown = relative_image_path(given, Path(base_dir)) if base_dir is not None else given.as_posix()
    except ValueError as exc:
        raise ImageError(str(exc)) from None
    ref = ImageRef(path=shown)
    loaded = load_image(base_dir, ref)
    return ref.model_copy(update={"sha256": hashlib.sha256(loaded.data).hexdigest()})


def attach_to_case(proto: Prototype, case_id: str, paths: list[str | os.PathLike[str]],
                   turn: int | None = None) -> list[ImageRef]:
    """Attach image files to a case's user turn (default: its last user turn), relative to
    `proto.base_dir`, with their sha256. Attaching a path the turn already has updates its sha256.
    Raises KeyError (no such case), IndexError (no such user turn) or ImageError (the file cannot
    be sent); nothing changes unless every image attaches."""
    case = proto.case(case_id)
    users = [i for i, t in enumerate(case.turns) if t.role == "user"]
    if not users:  # e.g. its simulated user writes the first message
        raise IndexError(f"case {case_id!r} has no user turn to attach images to")
    if turn is None:
        index = image_turn(case)  # the last user turn, as when an image is dropped on the case
    elif turn in users:
        index = turn
    else:
        raise IndexError(f"turn {turn} of case {case_id!r} is not a user turn (user turns: "
                         f"{', '.join(map(str, users))})")
    refs = [attach(proto.base_dir, path) for path in paths]
    target = case.turns[index]
    kept = [ref for ref in target.images if ref.path not in {r.path for r in refs}]
    target.images = kept + refs
    return refs


def image_problems(proto: Prototype, base_dir: str | os.PathLike[str] | None,
                   ) -> list[tuple[tuple[str | int, ...], str]]:
    """(YAML path, message) for every image a case or profile turn cannot send, and for turns whose
    images together exceed the per-request limit."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    owners = [("cases", index, case.turns) for index, case in enumerate(proto.cases)]
    owners += [("profiles", index, profile.turns) for index, profile in enumerate(proto.profiles)]
    for kind, index, turns in owners:
        total = 0
        for t_index, turn in enumerate(turns):
            for i_index, ref in enumerate(turn.images):
                where: tuple[str | int, ...] = (kind, index, "turns", t_index, "images", i_index)
                if turn.role != "user":
                    found.append((where, "images can only be attached to user turns"))
                    continue
                try:
                    total += len(load_image(base_dir, ref).data)
                except ImageError as exc:
                    found.append((where, str(exc)))
        if total > MAX_REQUEST_IMAGE_BYTES:
            found.append(((kind, index, "turns"), f"the images of these turns add up to {_mb(total)}, over "
                          f"the {_mb(MAX_REQUEST_IMAGE_BYTES)} limit per request"))
    return found


def check_prototype_images(proto: Prototype, filename: str, text: str | None = None) -> None:
    """Raise PrototypeError with a `file:line:col` problem for each image that cannot be sent (paths are
    relative to `proto.base_dir`, set when the file was loaded). Used by `validate` and the app."""
    found = image_problems(proto, proto.base_dir)
    if not found:
        return
    raise PrototypeError(locate(found, filename, text))


def images_in(messages: list[Message]) -> bool:
    return any(message.images for message in messages)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size % (1024 * 1024) else f"{size // (1024 * 1024)} MB"


__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_REQUEST_IMAGE_BYTES",
    "ImageError",
    "LoadedImage",
    "attach",
    "attach_to_case",
    "check_prototype_images",
    "image_problems",
    "images_in",
    "load_image",
    "mime_of",
    "resolve",
]
