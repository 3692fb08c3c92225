"""Fixtures for the prototype-format tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "prototypes").glob("*.yaml"))


@pytest.fixture(params=EXAMPLES, ids=[p.name for p in EXAMPLES])
def example_path(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path
