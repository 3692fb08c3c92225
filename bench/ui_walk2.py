"""The second walk-through, at real size: what the first (`ui_walkthrough.py`) does not cover.

Against the scriptable fake server, in the real main window, one PNG per step:
1. 4 profiles x 3 models x 5 cases at 1280 x 800: the grid, two raters' thumbs, Results, Team,
   Evals with the prompted baseline (matrix, assertions and discrimination, why checks failed);
2. the four form factors side by side, a tool every profile offers, an image in a case, a model
   whose endpoint does not exist, File › Export to promptfoo and Import of what was written.

    Xvfb :92 -screen 0 1600x1000x24 &
    DISPLAY=:92 python bench/ui_walk2.py --out /tmp/walk2-shots

The simulated user and Generate cases need the bundled model (minutes on 2 cores); walk them in the
app itself: File › Open example › Instruction following, and Run › Generate cases….
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("PROTOSTUDIO_HOME", tempfile.mkdtemp(prefix="walk2-"))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")  # no D-Bus under Xvfb

import ui_walkthrough as first_walk  # noqa: E402
from fakeserver import FakeOpenAI, Recorded, Reply  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app.core.document import load_prototype, save_prototype  # noqa: E402
from app.core.images import attach  # noqa: E402
from app.core.prototype import Assertion, ModelTarget, Rating, ToolSpec  # noqa: E402

HOME = Path(os.environ["PROTOSTUDIO_HOME"])
PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
           "rkJggg==")


def pump(app: QApplication, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def shot(app: QApplication, widget: QWidget, out: Path, name: str) -> None:
    pump(app)
    widget.grab().save(str(out / f"{name}.png"), "PNG")
    print(out / f"{name}.png")


def plain_assistant(rec: Recorded) -> Reply:
    """The prompted baseline (no system prompt) answers like a generic assistant; profiles in persona."""
    if not rec.messages or rec.messages[0]["role"] != "system":
        return Reply(text="Sure! As an AI assistant, I'd be happy to help with that. Here is a detailed "
                          "answer about your question, covering several points in depth.", ttft=0.1)
    return first_walk.persona_answer(rec)


def open_window(path: Path):  # type: ignore[no-untyped-def]
    from app.ui.main import create_window

    window = create_window([str(path)])
    window.file_ops.ask_unsaved = lambda: "discard"
    window.ask_host = lambda *_args: True  # loopback fake server
    for model in window.document.proto.models:
        window.selection.set_shown("models", model.id, True)
    return window


def idle(window) -> bool:  # type: ignore[no-untyped-def]
    return not window.starting and not window.controller.busy


def walk_size(app: QApplication, out: Path) -> None:
    server = FakeOpenAI().start()
    server.models = [m for _i, _n, m in first_walk.MODELS]
    server.responder = plain_assistant
    try:
        proto = first_walk.build(server.base_url)
        proto.cases[0].assert_ = [Assertion(type="not-icontains", value="AI assistant")]
        path = HOME / "cats.yaml"
        save_prototype(proto, path)
        window = open_window(path)
        window.resize(1280, 800)
        window.show()
        window.run_grid(False)
        first_walk.wait(app, lambda: idle(window))
        shot(app, window, out, "01-grid-1280")
        rng = random.Random(3)
        for rater in ("ana", "ben"):
            window.document.set_rater(rater)
            for run in list(window.document.proto.runs):
                window.document.set_rating(run.id, Rating(thumb=rng.choice(["up", "down", "up"])))
        for name in ("Results", "Team"):
            panel = window.extra[name]
            window.tabs.setCurrentWidget(panel)
            pump(app, 1)
            first_walk.wait(app, lambda panel=panel: not panel.busy, 30)
            shot(app, window, out, f"02-{name.lower()}-two-raters")
        evals = window.extra["Evals"]
        window.tabs.setCurrentWidget(evals)
        evals.baseline.setChecked(True)
        evals.run_evals()
        first_walk.wait(app, lambda: not evals.running, 120)
        window.splitter.setSizes([0, 0, 1280])
        shot(app, window, out, "03-evals-baseline")
        evals.results_tabs.setCurrentIndex(1)
        shot(app, window, out, "04-evals-discrimination")
        window.close()
        window.shutdown()
    finally:
        server.stop()


def tool_or_persona(rec: Recorded) -> Reply:
    if rec.messages[-1]["role"] == "tool":
        return Reply(text="It is 4 °C and raining in Oslo, so take a coat.")
    if (rec.body or {}).get("tools"):
        return Reply(text="Let me check.", tool_calls=[("get_weather", '{"city": "Oslo"}')])
    return Reply(text="Your order has shipped and arrives Thursday.")


def walk_form_factors(app: QApplication, out: Path) -> None:
    server = FakeOpenAI().start()
    server.models = ["fm"]
    server.responder = tool_or_persona
    try:
        proto = first_walk.build(server.base_url)
        kinds = ("chat", "canvas", "voice", "notification")
        for profile, form_factor in zip(proto.profiles, kinds, strict=True):
            profile.form_factor = form_factor  # type: ignore[assignment]
            profile.name = f"{form_factor.capitalize()} variant"
            profile.tools = ["get_weather"]
        proto.models = [
            ModelTarget(id="fake", provider="vllm", model="fm", name="Fake", base_url=server.base_url),
            ModelTarget(id="nowhere", provider="vllm", model="x", name="My endpoint",
                        base_url="http://127.0.0.1:9/v1"),
        ]
        proto.tools = [ToolSpec(name="get_weather", description="Weather for a city",
                                parameters={"type": "object", "properties": {"city": {"type": "string"}}},
                                mock={"temp_c": 4, "sky": "rain"})]
        proto.cases = proto.cases[:2]
        path = HOME / "formfactors.yaml"
        save_prototype(proto, path)
        image = HOME / "cat.png"
        image.write_bytes(base64.b64decode(PNG_1PX))
        proto = load_prototype(path)
        proto.cases[1].turns[0].images = [attach(HOME, image)]
        save_prototype(proto, path)
        window = open_window(path)
        window.resize(1600, 1000)
        window.show()
        window.run_grid(False)
        first_walk.wait(app, lambda: idle(window), 90)
        window.splitter.setSizes([0, 0, 1600])
        shot(app, window, out, "05-form-factors-tools-image-missing-endpoint")
        exported = HOME / "export"
        exported.mkdir(exist_ok=True)
        window.interop.export_to("promptfoo", exported)
        first_walk.wait(app, (exported / "promptfooconfig.yaml").exists, 30)
        shot(app, window, out, "06-exported")
        window.interop.import_path(exported / "promptfooconfig.yaml")
        first_walk.wait(app, lambda: window.document.path is None, 30)
        window.run_grid(False)
        first_walk.wait(app, lambda: idle(window), 90)
        shot(app, window, out, "07-imported-and-run")
        window.close()
        window.shutdown()
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="walk2-shots-")))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    walk_size(app, args.out)
    walk_form_factors(app, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
