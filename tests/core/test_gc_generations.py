"""Opening and saving leave what they built in the oldest GC generation, so no collection walks it at once.

With the cycle collector paused while a document is built, every new object stays in the youngest
generation; the first collection after re-enabling would walk them all (0.1 s after 10,000 runs,
seconds after 70,000). `document._without_cyclic_gc` moves them to the oldest one instead."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.core.document import parse_prototype

TEXT = "protostudio: 3\nname: x\ntags:\n" + "".join(f"  - t{i}\n" for i in range(50)) + "cases:\n" + "".join(
    f"  - id: c{i}\n    turns:\n      - content: hi {i}\n" for i in range(50))


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def generation_of(obj: object) -> int | None:
    for generation in range(3):
        if any(o is obj for o in gc.get_objects(generation)):
            return generation
    return None


def test_a_parsed_document_is_in_the_oldest_generation(collector_on: None) -> None:
    proto = parse_prototype(TEXT)
    assert generation_of(proto.cases[-1]) == 2
    assert generation_of(proto.cases[-1].turns) == 2


def test_objects_someone_froze_stay_frozen(collector_on: None) -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        proto = parse_prototype(TEXT)
        assert gc.get_freeze_count() == frozen  # not unfrozen by us
        assert generation_of(proto.cases[-1]) is not None  # tracked; a collection may move it, never lose it
    finally:
        gc.unfreeze()
