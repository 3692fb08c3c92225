"""How many items a list or mapping in a prototype file may hold, checked while the file is read.

A 64 MiB file can hold 7 million list items, and building (then validating) millions of objects
takes a minute and gigabytes. The readers count items as they go and stop at the first one past a
limit, reporting that item's `file:line:col`, before anything big is built.

Every limit is about 10x what a real file needs, and validation of a file at every limit stays
within seconds (pydantic builds roughly 100,000 small models a second here):
- records (`runs`, `preferences`, the `prompts` table, eval results): 100,000. A real run with its
  answer is ~1 KB, so 64 MiB of real runs is ~60,000; the 10,000-run files we measure fit 10 times.
- `cases`: 20,000, ten times a large promptfoo suite; at the bundled model's speed that many cases
  is days of runs per variant.
- `cells` of a batch: 50,000, the OpenAI Batch API's own per-batch limit.
- `tags` (of the prototype or of a rating): 1,000 labels is already unreadable.
- anything else (profiles, turns, messages, assertions, vars, a JSON schema's keys): 10,000.
- and at most 3,000,000 items in the whole file, so many lists each under its limit cannot add up
  to millions: 64 MiB of real runs, the largest file the size limit allows, holds ~1.9 million
  (counted on `bench/bench_big_files.py`'s files).
"""

from __future__ import annotations

MAX_ITEMS: dict[str, int] = {
    "runs": 100_000,
    "preferences": 100_000,
    "prompts": 100_000,
    "results": 100_000,
    "cases": 20_000,
    "cells": 50_000,
    "tags": 1_000,
}
"""Limits by the key that holds the list or mapping (`runs:`, a rating's `tags:`)."""

DEFAULT_MAX_ITEMS = 10_000
"""Any other list or mapping, including ones nested in lists (a run's own keys)."""

MAX_TOTAL_ITEMS = 3_000_000
"""List items plus mapping keys in the whole file."""


def max_items(key: str | int | None) -> int:
    """The limit for a list or mapping held by `key` (None or an index: it sits in a list or at the top)."""
    if isinstance(key, str):
        return MAX_ITEMS.get(key, DEFAULT_MAX_ITEMS)
    return DEFAULT_MAX_ITEMS


def too_many(key: str | int | None, limit: int) -> str:
    """The message for the item that crosses `limit`."""
    where = f"`{key}:`" if isinstance(key, str) else "this list or mapping"
    return f"{where} has more than {limit:,} items; prototype files allow at most {limit:,} here"


def too_many_in_file() -> str:
    return (f"the file has more than {MAX_TOTAL_ITEMS:,} list items and keys in all; "
            "split it into several prototypes")


class TooManyToSave(OSError):
    """A save refused because the file would cross an item limit, so the app could not open it again.

    An OSError on purpose: every caller already treats a failed save as "nothing written, the file
    on disk unchanged, say why" (the CLI's `save_or_report`, the GUI's save job, the run writer)."""


def check_data(data: object) -> None:
    """TooManyToSave when plain prototype data (`document.to_data`) holds more items than the readers allow.

    Counts as the readers do: each list item and mapping key, limited by the key that holds the list
    or mapping, and in total. Only containers are visited, so 10,000 runs cost a few milliseconds."""
    left = MAX_TOTAL_ITEMS
    stack: list[tuple[str | None, object]] = [(None, data)]
    while stack:
        holder, value = stack.pop()
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = [(None, item) for item in value]
        else:
            continue
        limit = max_items(holder)
        if len(items) > limit:
            raise TooManyToSave(f"cannot save: {too_many(holder, limit)}; the file was not written "
                                "(delete some, or split the prototype)")
        left -= len(items)
        if left < 0:
            raise TooManyToSave(f"cannot save: {too_many_in_file()}; the file was not written")
        stack.extend((key, item) for key, item in items if isinstance(item, dict | list))
