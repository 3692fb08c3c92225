"""The first Run after start-up never imports the openai SDK on the GUI thread.

The window warms the back end up in the background once it has painted (`MainWindow.warm_up`); a Run
pressed before that finished used to build the ProviderHub (and so `import openai`, 1-4 s under load)
on the GUI thread. The probe runs in a fresh interpreter, so the SDK is not imported yet, records
which thread imports it, and presses Run with no warm-up at all (the worst case).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r'''
import json, sys, threading
sys.path.insert(0, "tests")
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
from fakeserver import FakeOpenAI
from ui_prototypes import fake_prototype
from app.core.document import save_prototype
from app.ui.main import create_window

server = FakeOpenAI().start()
path = sys.argv[1]
save_prototype(fake_prototype(server.base_url, local=False), path)
window = create_window([path])
window.show()
assert "openai" not in sys.modules, "opening the window imported the SDK"
window.run_grid(bypass_cache=True)
import time
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    app.processEvents()
    if window.starting == 0 and not window.controller.busy and window.document.proto.runs:
        break
    time.sleep(0.01)
runs = len(window.document.proto.runs)
window.file_ops.ask_unsaved = lambda: "discard"
window.close()
window.shutdown()
server.stop()
print(json.dumps({"importers": importers, "runs": runs}))
'''


def test_first_run_imports_the_sdk_off_the_gui_thread(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PROTOSTUDIO_HOME=str(tmp_path / "home"),
               PYTHONPATH=os.pathsep.join(str(p) for p in (ROOT, ROOT / "tests", ROOT / "tests" / "ui")))
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "p.yaml")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["runs"] == 4, report  # the Run really ran: 2 profiles x 2 cases on the fake model
    assert report["importers"], "the SDK was never imported"
    assert report["importers"][0] is False, "the GUI thread imported openai during the first Run"
