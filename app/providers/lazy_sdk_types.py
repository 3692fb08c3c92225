"""Import the `openai` SDK without executing its ~470 type modules up front.

`import openai` runs `openai/types/__init__.py`, and every package under `openai/types/` re-exports
all of its modules eagerly: the whole API surface (responses, evals, graders, realtime, ...) is built
as pydantic classes before anything is sent. That was ~0.9 s of CPU per `protostudio` process,
the largest fixed cost of `eval` and `run` (bench/README.md, "CLI fixed costs"). A chat stream
needs about 60 of those modules.

`install()` puts a finder in front of the import system that loads each `openai.types` package
(`openai.types`, `openai.types.chat`, ...) as a module whose re-exported names resolve on first
access (PEP 562 `__getattr__`) to the very objects the package's `__init__` would have bound.
Submodules load as usual when something imports them. The SDK's own code is untouched and
unpatched: only the order in which its modules run changes.

It applies to a package only if its `__init__` consists of nothing but `from .module import
Name as Name` lines (every package in the SDK we pin); anything else, and that package loads
eagerly as before. `tests/providers/test_lazy_sdk_types.py` holds the result to an eager import.
Setting `PROTOSTUDIO_EAGER_SDK=1` turns it off.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

PREFIX = "openai.types"
"""The packages made lazy: this one and every package below it."""


def install() -> None:
    """Make `openai.types` packages lazy from now on (idempotent; no effect once they are imported)."""
    if os.environ.get("PROTOSTUDIO_EAGER_SDK") or any(isinstance(f, LazyTypesFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, LazyTypesFinder())


def reexports(source: str) -> dict[str, tuple[str, str]] | None:
    """Name -> (module, name in it) for an `__init__` made only of relative re-exports (and
    `__future__` imports, which bind a name too), else None. Modules are as `import_module` takes
    them relative to the package: `.chat`, or `__future__`."""
    names: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ImportFrom) or not node.module:
            return None
        if node.module == "__future__" and node.level == 0:
            module = "__future__"
        elif node.level == 1:
            module = "." + node.module
        else:
            return None
        for alias in node.names:
            if alias.name == "*":
                return None
            names[alias.asname or alias.name] = (module, alias.name)
    return names


class LazyTypesFinder:
    """A meta path finder: the SDK's type packages get `LazyPackageLoader`, everything else is left alone."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None,
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PREFIX and not fullname.startswith(PREFIX + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.submodule_search_locations or spec.loader is None:
            return None  # a plain module (or not found): the usual import
        get_source = getattr(spec.loader, "get_source", None)
        try:
            source = get_source(fullname) if get_source is not None else None
            names = reexports(source) if source else None
        except (OSError, SyntaxError, ImportError):
            names = None
        if names is None:
            return spec
        spec.loader = LazyPackageLoader(names)
        return spec


class LazyPackageLoader(importlib.abc.Loader):
    """Creates the package module empty; each re-exported name is imported when first read."""

    def __init__(self, names: dict[str, tuple[str, str]]) -> None:
        self.names = names

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        names = self.names
        package = module.__name__

        def __getattr__(attr: str) -> Any:
            where = names.get(attr)
            if where is None:  # a subpackage or module the eager `__init__` would have bound
                try:
                    return importlib.import_module(f"{package}.{attr}")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{package}.{attr}":
                        raise
                    raise AttributeError(f"module {package!r} has no attribute {attr!r}") from None
            source, original = where
            value = getattr(importlib.import_module(source, package), original)
            setattr(module, attr, value)
            return value

        def __dir__() -> list[str]:
            return sorted(set(module.__dict__) | set(names))

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__dir__ = __dir__  # type: ignore[method-assign]
        setattr(module, "__all__", [name for name in names if not name.startswith("_")])  # noqa: B010
