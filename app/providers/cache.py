"""A disk cache of finished answers, so re-opening or re-scoring a prototype costs nothing.

Key: sha256 of the canonical JSON of endpoint, model, params and messages. Value: the answer and its
usage and timings. Only complete answers are stored (never errors or cut streams), and an entry holds no
key or header. A corrupted entry counts as a miss.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.core import jsontext
from app.core.atomic import remove_stale_temps_in, write_atomic
from app.core.paths import cache_dir

ENTRY_VERSION = 1


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    finish_reason: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_s: float | None = None
    latency_s: float = 0.0
    tool_calls: tuple[dict[str, str], ...] = ()
    """{id, name, arguments} of each tool call the answer made."""


def cache_key(endpoint: str, model: str, params: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    """A stable hex digest; params with a None value are left out so unset equals absent. A message is
    {role, content}, plus images (digests) and tool fields when it has any (`wire.cache_messages`)."""
    canonical = json.dumps(
        {"endpoint": endpoint, "model": model,
         "params": {k: v for k, v in sorted(params.items()) if v is not None},
         "messages": [{"role": m["role"], "content": m["content"]} if len(m) == 2 else dict(m)
                      for m in messages]},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Files `<root>/<2 hex>/<64 hex>.json`. `root` defaults to `cache_dir()/responses`."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._swept = False

    @property
    def root(self) -> Path:
        return self._root or cache_dir() / "responses"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedAnswer | None:
        path = self._path(key)
        try:
            data = jsontext.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != ENTRY_VERSION:
                return None
            answer = data["answer"]
            return CachedAnswer(
                text=str(answer["text"]),
                finish_reason=answer.get("finish_reason"),
                prompt_tokens=_int_or_none(answer.get("prompt_tokens")),
                completion_tokens=_int_or_none(answer.get("completion_tokens")),
                ttft_s=_float_or_none(answer.get("ttft_s")),
                latency_s=float(answer.get("latency_s") or 0.0),
                tool_calls=_calls(answer.get("tool_calls")),
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def put(self, key: str, answer: CachedAnswer) -> None:
        if not self._swept:  # once per process: temp files of a process killed mid-write
            self._swept = True
            remove_stale_temps_in(self.root, recursive=True)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": ENTRY_VERSION, "answer": asdict(answer)}
        write_atomic(path, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def clear(self) -> int:
        """Delete every entry; returns how many were removed."""
        removed = 0
        if self.root.exists():
            for path in self.root.glob("*/*.json"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _float_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _calls(value: object) -> tuple[dict[str, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple({"id": str(c.get("id") or ""), "name": str(c.get("name") or ""),
                  "arguments": str(c.get("arguments") or "")} for c in value if isinstance(c, dict))
