"""Where the app finds its bundled files (icons, example prototypes), in a checkout or an install."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
"""The folder holding `app/`: the repository root in a checkout."""

_FALLBACKS: dict[str, QStyle.StandardPixmap] = {
    "run": QStyle.StandardPixmap.SP_MediaPlay,
    "stop": QStyle.StandardPixmap.SP_MediaStop,
    "rerun": QStyle.StandardPixmap.SP_BrowserReload,
    "add": QStyle.StandardPixmap.SP_FileDialogNewFolder,
    "delete": QStyle.StandardPixmap.SP_TrashIcon,
    "settings": QStyle.StandardPixmap.SP_FileDialogDetailedView,
    "send": QStyle.StandardPixmap.SP_ArrowRight,
}


def root() -> Path:
    return _PACKAGE_ROOT


def example_prototype(name: str = "cat-persona.yaml") -> Path | None:
    """A bundled example prototype, or None when the app was installed without `prototypes/`."""
    path = _PACKAGE_ROOT / "prototypes" / name
    return path if path.is_file() else None


def examples_dir() -> Path:
    return _PACKAGE_ROOT / "prototypes"


def is_example(path: Path | None) -> bool:
    """True for a bundled example: a template that Save must never overwrite."""
    if path is None:
        return False
    try:
        return path.resolve().is_relative_to(examples_dir().resolve())
    except OSError:
        return False


def copy_suggestion(path: Path) -> Path:
    """Where to offer to keep a copy of an example: ~/Documents (or home) with the same file name."""
    documents = Path.home() / "Documents"
    return (documents if documents.is_dir() else Path.home()) / path.name


@cache
def icon(name: str) -> QIcon:
    """An icon from `assets/icons/NAME.svg`, falling back to the style's standard icon."""
    path = _PACKAGE_ROOT / "assets" / "icons" / f"{name}.svg"
    if path.is_file():
        return QIcon(str(path))
    standard = _FALLBACKS.get(name)
    app = QApplication.instance()
    if standard is not None and isinstance(app, QApplication):
        return app.style().standardIcon(standard)
    return QIcon()
