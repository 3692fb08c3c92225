"""The first Run after start-up never imports the openai SDK on the GUI thread.

The window warms the back end up in the background once it has painted (`MainWindow.warm_up`); a Run
pressed before that finished used to build the ProviderHub (and so `import openai`, 1-4 s under load)
on the GUI thread. The probe runs in a fresh interpreter, so the SDK is not imported yet, records
which thread imports it, and presses Run with no warm-up at all (the worst case).
"""

from __future__ import annotations

from pathlib import Path

from sdk_import_probe import run_probe

SCENARIO = r'''
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
    report = run_probe(SCENARIO, tmp_path / "home", str(tmp_path / "p.yaml"))
    assert report["runs"] == 4, report  # the Run really ran: 2 profiles x 2 cases on the fake model
    assert report["importers"], "the SDK was never imported"
    assert report["importers"][0] is False, "the GUI thread imported openai during the first Run"
