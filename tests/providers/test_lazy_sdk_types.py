"""The lazy `openai.types` packages give every name the eager import gives, as the same objects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.providers.lazy_sdk_types import reexports

ROOT = Path(__file__).resolve().parents[2]

NAMES = r"""
import importlib, json, pkgutil, sys
LAZY = sys.argv[1] == "lazy"
if LAZY:
    import app.providers  # installs the finder
import openai
loaded = sorted(m for m in sys.modules if m.startswith("openai.types"))
out = {"loaded": loaded, "names": {}}
packages = ["openai.types"]
while packages:  # every package under openai.types, found from the files, not from what is loaded
    name = packages.pop()
    package = importlib.import_module(name)
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg:
            packages.append(f"{name}.{info.name}")
    public = {}
    for attr in sorted(dir(package)):
        if attr.startswith("_"):
            continue
        value = getattr(package, attr)
        if type(value).__name__ == "module":
            continue  # submodules are bound only once imported, in either mode
        public[attr] = [type(value).__name__, getattr(value, "__module__", None),
                        getattr(value, "__qualname__", None) or repr(value)]
    out["names"][name] = public
print(json.dumps(out))
"""


def _names(mode: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", NAMES, mode], cwd=ROOT, capture_output=True, text=True,
                          check=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, object], dict[str, object]]:
    """What an eager and a lazy import see (two subprocesses, once for this module)."""
    return _names("eager"), _names("lazy")


def test_every_type_package_gives_the_same_names_and_objects_as_the_eager_import(
        both: tuple[dict[str, object], dict[str, object]]) -> None:
    eager, lazy = both
    assert lazy["names"] == eager["names"]
    assert len(eager["names"]) > 20  # type: ignore[arg-type]  # the walk really found the packages


def test_importing_the_sdk_loads_a_fraction_of_its_type_modules(
        both: tuple[dict[str, object], dict[str, object]]) -> None:
    eager, lazy = both
    assert "openai.types.responses.response" in eager["loaded"]  # type: ignore[operator]
    assert "openai.types.responses.response" not in lazy["loaded"]  # type: ignore[operator]
    assert len(lazy["loaded"]) * 4 < len(eager["loaded"])  # type: ignore[arg-type]


def test_reexports_accepts_only_plain_relative_reexports() -> None:
    assert reexports("from __future__ import annotations\nfrom .a import B as B, C\n") == {
        "annotations": ("__future__", "annotations"), "B": (".a", "B"), "C": (".a", "C")}
    assert reexports("from .a import B\nX = 1\n") is None
    assert reexports("from .a import *\n") is None
    assert reexports("from typing import Any\n") is None
    assert reexports("from . import a\n") is None
