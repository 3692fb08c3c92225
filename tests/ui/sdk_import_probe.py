"""Run a GUI scenario in a fresh interpreter and record which thread imports the openai SDK.

A fresh process is the only honest test: in the test run the SDK is long imported. `run_probe`
prepends `HEADER` (the import hook, a QApplication, the test helpers on `sys.path`) to a scenario
that ends by printing `json.dumps({"importers": importers, ...})`; `importers` holds True for each
import on the GUI (main) thread, False for one on another thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

HEADER = r'''
import json, sys, threading, time
importers = []

class Watch:
    """Records the thread that first imports `openai` (then lets the normal finders load it)."""
    def find_spec(self, name, path=None, target=None):
        if name == "openai":
            importers.append(threading.current_thread() is threading.main_thread())
        return None

sys.meta_path.insert(0, Watch())

from PySide6.QtWidgets import QApplication
app = QApplication([])
'''


def run_probe(scenario: str, home: Path, *args: str) -> dict[str, Any]:
    """The scenario's last printed line, as JSON, after it exited cleanly (offscreen, its own home)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PROTOSTUDIO_HOME=str(home),
               PYTHONPATH=os.pathsep.join(str(p) for p in (ROOT, ROOT / "tests", ROOT / "tests" / "ui")))
    out = subprocess.run([sys.executable, "-c", HEADER + scenario, *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    report: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return report
