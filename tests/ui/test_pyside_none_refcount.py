"""Guard against a Qt binding that leaks references to None (PySide6 6.12.0 on Python 3.11).

Each void method call dropped one reference to None, so a long session, or a paint event that
makes thousands of void calls, ended in "Fatal Python error: none_dealloc". pyproject pins PySide6
below 6.12 on Python < 3.12; this test fails if the installed binding has the bug again.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QToolButton

CALLS = 2000


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_void_calls_keep_none_alive(qtbot: object) -> None:
    button = QToolButton()
    button.setCheckable(True)
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        button.setChecked(True)
    lost = before - sys.getrefcount(None)
    assert lost < CALLS // 10, f"{lost} references to None lost in {CALLS} void calls: a buggy PySide6 build"
