"""Generate cases and Settings never import the openai SDK on the GUI thread, even as the first thing
after start-up.

The Generate dialog used to build the engine (and so the hub, and so `import openai`: 1-4 s under load) on the
GUI thread when Generate was pressed. The probe runs in a fresh interpreter, where the SDK is not
imported yet, and records which thread imports it.
"""

from __future__ import annotations

from pathlib import Path

from sdk_import_probe import run_probe

GENERATE = r'''
from casegen.kit import PROTO, proposal_reply
from fakeserver import FakeOpenAI
from app.core.document import parse_prototype
from app.ui.document_model import Document
from app.ui.generate_dialog import GenerateDialog
from app.ui.services import Services

server = FakeOpenAI().start()
server.responder = proposal_reply
from pathlib import Path
document = Document(parse_prototype(PROTO.format(base_url=server.base_url)), Path(sys.argv[1]))
dialog = GenerateDialog(document, Services())
dialog.show()
dialog.model.setCurrentIndex(dialog.model.findData("fake"))
dialog.count.setValue(2)
assert "openai" not in sys.modules, "opening the dialog imported the SDK"
dialog.generate_button.click()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    app.processEvents()
    if dialog.proposals.count() >= 2 and not dialog.running:
        break
    time.sleep(0.01)
proposals = dialog.proposals.count()
dialog.shutdown()
dialog.services.close()
server.stop()
print(json.dumps({"importers": importers, "proposals": proposals}))
'''


def test_generate_imports_the_sdk_off_the_gui_thread(tmp_path: Path) -> None:
    report = run_probe(GENERATE, tmp_path / "home", str(tmp_path / "g.yaml"))
    assert report["proposals"] == 2, report  # the generation really ran on the fake model
    assert report["importers"] == [False], report  # imported once, and not on the GUI (main) thread


SETTINGS = r'''
from app.core.document import load_prototype
from app.ui.services import Services
from app.ui.settings_dialog import SettingsDialog

services = Services()
dialog = SettingsDialog(services, load_prototype("prototypes/cat-persona.yaml"))
dialog.show()
table = dialog.providers.table
deadline = time.monotonic() + 60
while time.monotonic() < deadline:  # until the key status (looked up in a job) fills the table
    app.processEvents()
    if dialog.providers.key_lookups and all(table.item(r, 2) is not None and table.item(r, 2).text()
                                            for r in range(table.rowCount())):
        break
    time.sleep(0.01)
shown = [table.item(r, 2).text() for r in range(table.rowCount())]
dialog.close()
services.close()
print(json.dumps({"importers": importers, "shown": shown}))
'''


def test_settings_opens_without_importing_the_sdk_on_the_gui_thread(tmp_path: Path) -> None:
    report = run_probe(SETTINGS, tmp_path / "home")
    assert report["shown"] and all(report["shown"]), report  # the key status really arrived
    assert True not in report["importers"], report  # never on the GUI (main) thread
