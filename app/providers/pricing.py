"""Prices per model (USD per 1M input/output tokens) and the cost of one answer.

A table ships with the app (`prices.json` here); `settings_dir()/prices.json` in the same format
overrides it. An unknown price is None, never 0: the UI shows "unknown", not "free".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from app.core import jsontext
from app.core.atomic import write_atomic
from app.core.paths import settings_dir

OVERRIDES_FILE = "prices.json"
_VARIANT_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview)$")


@dataclass(frozen=True)
class Price:
    input_per_m: float
    output_per_m: float

    def cost(self, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
        if prompt_tokens is None or completion_tokens is None:
            return None
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1_000_000


Table = dict[str, dict[str, Price]]


class PriceError(ValueError):
    """The user's price file is invalid; the message says where."""


def _parse(data: Any, origin: str) -> Table:
    if not isinstance(data, dict) or not isinstance(data.get("prices"), dict):
        raise PriceError(f"{origin}: expected an object with a 'prices' object")
    table: Table = {}
    for provider, models in data["prices"].items():
        if not isinstance(models, dict):
            raise PriceError(f"{origin}: prices.{provider} must be an object of model -> [input, output]")
        for model, pair in models.items():
            if not isinstance(pair, list) or len(pair) != 2 or not all(_is_price(v) for v in pair):
                raise PriceError(
                    f"{origin}: prices.{provider}.{model} must be [input, output] USD per 1M tokens")
            table.setdefault(str(provider), {})[str(model)] = Price(float(pair[0]), float(pair[1]))
    return table


def _is_price(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def shipped_table() -> Table:
    text = resources.files("app.providers").joinpath("prices.json").read_text(encoding="utf-8")
    return _parse(jsontext.loads(text), "shipped prices.json")


class PriceTable:
    """Shipped prices with the user's overrides on top. Reloads overrides on `reload()`."""

    def __init__(self, overrides_path: Path | None = None) -> None:
        self._overrides_path = overrides_path
        self._shipped = shipped_table()
        self._overrides: Table = {}
        self.problem: str | None = None
        self.reload()

    @property
    def overrides_path(self) -> Path:
        return self._overrides_path or settings_dir() / OVERRIDES_FILE

    def reload(self) -> None:
        """Re-read the user's file. A broken file is reported in `problem` and ignored, never fatal."""
        self.problem = None
        self._overrides = {}
        path = self.overrides_path
        if not path.exists():
            return
        try:
            self._overrides = _parse(jsontext.loads(path.read_text(encoding="utf-8")), str(path))
        except (OSError, ValueError) as exc:
            self.problem = str(exc) if isinstance(exc, PriceError) else f"{path}: {exc}"

    def set_override(self, provider: str, model: str, input_per_m: float, output_per_m: float) -> None:
        """Add or change one user price, rewriting the user's file atomically."""
        if input_per_m < 0 or output_per_m < 0:
            raise PriceError("prices cannot be negative")
        path = self.overrides_path
        data: dict[str, Any] = {"version": 1, "prices": {}}
        if path.exists():
            data = jsontext.loads(path.read_text(encoding="utf-8"))
            _parse(data, str(path))  # refuse to overwrite a file we cannot read: it would lose entries
        data.setdefault("prices", {}).setdefault(provider, {})[model] = [input_per_m, output_per_m]
        write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
        self.reload()

    # -- lookup ------------------------------------------------------------------------------------

    def price(self, provider: str, model: str) -> Price | None:
        for table in (self._overrides, self._shipped):
            found = _lookup(table, provider, model)
            if found is not None:
                return found
        return None

    def cost(self, provider: str, model: str, prompt_tokens: int | None,
             completion_tokens: int | None) -> float | None:
        price = self.price(provider, model)
        return price.cost(prompt_tokens, completion_tokens) if price else None


def _lookup(table: Table, provider: str, model: str) -> Price | None:
    own = table.get(provider, {})
    if model in own:
        return own[model]
    base = _strip_variant(model)
    if base in own:
        return own[base]
    if "*" in own:
        return own["*"]
    # Aggregators (openrouter, together, custom) name models like "openai/gpt-4o": try every vendor's table.
    bare = model.rsplit("/", 1)[-1]
    for name in (bare, _strip_variant(bare)):
        for vendor, models in table.items():
            if vendor != provider and "*" not in models and name in models:
                return models[name]
    return None


def _strip_variant(model: str) -> str:
    """`claude-3-5-sonnet-20241022` -> `claude-3-5-sonnet`; `gpt-4o-2024-08-06` -> `gpt-4o`."""
    return _VARIANT_SUFFIX.sub("", model)
