"""Walk through the app at real size, as a designer would, and keep screenshots to look at.

4 profiles x 3 models x 5 cases against the scriptable fake server (in-process, answers that read
like each persona), in the real main window at 1500 x 920: run the grid, group it by profile, focus
a cell, open F1, the exact request, run evals, vote in A/B, open Results. Every step saves a PNG.

    Xvfb :94 -screen 0 1600x1000x24 &
    DISPLAY=:94 python bench/ui_walkthrough.py --out /tmp/shots [--docs]

`--docs` also copies the grouped grid and the Evals tab to docs/ (what the README shows).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("PROTOSTUDIO_HOME", tempfile.mkdtemp(prefix="walkthrough-"))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")  # no D-Bus under Xvfb

from fakeserver import FakeOpenAI, Recorded, Reply  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app.core.document import save_prototype  # noqa: E402
from app.core.prototype import Assertion, Case, ModelTarget, Profile, Prototype, Turn  # noqa: E402

PERSONAS = {
    "grumpy": ("Grumpy cat", "You are {{cat_name}}, a grumpy old cat. Short, dry, unimpressed answers."),
    "kitten": ("Playful kitten",
               "You are {{cat_name}}, a playful kitten. Excited, lots of exclamation marks."),
    "sage": ("Wise cat", "You are {{cat_name}}, a wise cat who answers with calm advice."),
    "sleepy": ("Sleepy cat", "You are {{cat_name}}, a sleepy cat. Yawn, then answer in few words."),
}
MODELS = (("fast", "Fast model", "fast-1"), ("careful", "Careful model", "careful-2"),
          ("chatty", "Chatty model", "chatty-3"))
CASES = (
    ("food", "Asks for dinner", "Tom", "Is it dinner time yet?"),
    ("vet", "Going to the vet", "Luna", "We have to go to the vet today, ok?"),
    ("box", "A new box", "Milo", "Look, I bought you a box! Do you like it?"),
    ("rain", "Rainy day", "Tom", "It is raining. Want to go outside?"),
    ("bed", "Bedtime", "Luna", "Time for bed. Where will you sleep?"),
)


def persona_answer(rec: Recorded) -> Reply:
    messages = rec.messages
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    question = messages[-1]["content"] if messages else ""
    model = str((rec.body or {}).get("model", ""))
    name = system.split(",")[0].replace("You are ", "") or "Cat"
    if "grumpy" in system:
        text = f"No. {name} does not care. " + ("Meow." if "dinner" in question else "Go away.")
    elif "playful" in system:
        text = f"Yes yes YES! {name} loves this!!! Meow! Can we play first?!"
    elif "wise" in system:
        text = (f"{name} considers your question slowly.\n\n- Patience brings dinner.\n"
                "- A box is a small kingdom.\n- Rain passes; the windowsill stays.")
    else:
        text = f"*yawn* ... {name} will answer after a nap. Mrrp."
    if model.startswith("chatty"):
        text += "\n\nAlso, did I mention the red dot on the wall? It came back. I am watching it closely."
    if model.startswith("careful"):
        text = text.replace("!!!", "!")
    return Reply(text=text, ttft=0.2, tokens_per_s=60)


def build(base_url: str) -> Prototype:
    return Prototype(
        name="Cat personas",
        profiles=[
            Profile(id=pid, name=name, system_prompt=prompt) for pid, (name, prompt) in PERSONAS.items()
        ],
        models=[ModelTarget(id=mid, provider="vllm", model=model, name=name, base_url=base_url)
                for mid, name, model in MODELS],
        cases=[Case(id=cid, description=desc, vars={"cat_name": cat}, turns=[Turn(content=text)])
               for cid, desc, cat, text in CASES],
        default_assert=[
            Assertion(type="max-words", value=30, description="short enough to read aloud"),
            Assertion(type="icontains", value="meow", description="sounds like a cat"),
        ],
    )


def wait(app: QApplication, condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the walk-through step did not finish in time ({condition.__doc__ or ''})")
        app.processEvents()
        time.sleep(0.01)


def shot(app: QApplication, widget: QWidget, out: Path, name: str) -> Path:
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    path = out / f"{name}.png"
    widget.grab().save(str(path), "PNG")
    print(f"{path} ({path.stat().st_size // 1024} KB)")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="shots-")))
    parser.add_argument("--docs", action="store_true", help="copy the grouped grid and Evals shots to docs/")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.ui.main_window import FIRST_SPLITTER_SIZES, MainWindow
    from app.ui.services import Services

    server = FakeOpenAI().start()
    server.models = [m for _i, _n, m in MODELS]
    server.responder = persona_answer
    try:
        path = Path(os.environ["PROTOSTUDIO_HOME"]) / "cats.yaml"
        save_prototype(build(server.base_url), path)
        window = MainWindow(services=Services())
        window.file_ops.open_sync(path)
        window.file_ops.ask_unsaved = lambda: "discard"
        window.ask_host = lambda *_args: True  # loopback fake server
        for model in window.document.proto.models:
            window.selection.set_shown("models", model.id, True)
        window.resize(1500, 920)
        window.show()
        window.activateWindow()
        shot(app, window, args.out, "01-grid-before-run")
        window.run_grid(False)

        def idle() -> bool:
            return not window.starting and not window.controller.busy

        wait(app, idle)
        shot(app, window, args.out, "02-grid-by-model")
        window.grid.controls.group_by.setCurrentIndex(1)
        window.grid.focus_first_cell()
        grouped = shot(app, window, args.out, "03-grid-by-profile-focused")
        window.splitter.setSizes([0, 0, 1500])  # the grid alone: 12 columns at 1500 px
        shot(app, window, args.out, "04-grid-full-width")
        window.splitter.setSizes(list(FIRST_SPLITTER_SIZES))
        sampled = window.grid.cells[("food", "kitten", "chatty")]
        sampled.sig_samples.emit(3)
        wait(app, idle)
        window.grid.scroll_area.ensureWidgetVisible(sampled)
        print("pager:", sampled.pager.label.text(), "|", sampled.pager.label.toolTip())
        shot(app, window, args.out, "04b-three-samples")
        window.act_keys.trigger()
        shot(app, window.keys_dialog, args.out, "05-keys-help")
        window.keys_dialog.close()
        window.grid.cells[("food", "grumpy", "fast")].sig_request.emit()
        shot(app, window.grid.request_dialog, args.out, "06-exact-request")
        window.grid.request_dialog.close()
        window.tabs.setCurrentIndex(1)
        ab = window.extra["Compare A/B"]
        ab.reveal_ms = 0  # type: ignore[attr-defined]
        for verdict in ("a", "a", "b", "a", "tie"):
            ab.vote(verdict)  # type: ignore[attr-defined]
        shot(app, window, args.out, "07-compare-ab")
        window.tabs.setCurrentWidget(window.extra["Results"])
        results = window.extra["Results"]
        wait(app, lambda: not results.busy)
        shot(app, window, args.out, "08-results")
        evals = window.extra["Evals"]
        window.tabs.setCurrentWidget(evals)
        evals.run_evals()
        wait(app, lambda: not evals.running, 120)
        evals_shot = shot(app, window, args.out, "09-evals")
        if args.docs:
            shutil.copy(grouped, ROOT / "docs" / "grid-grouped.png")
            shutil.copy(evals_shot, ROOT / "docs" / "evals-tab.png")
        window.close()
        window.shutdown()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
