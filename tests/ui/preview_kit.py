"""A hand-built prototype with one profile per form factor and finished runs (tool calls included),
shared by the preview tests and `docs/formfactor_screenshots.py`."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from app.core.image_refs import image_ref
from app.core.messages import build_messages
from app.core.prototype import (
    Case,
    ModelTarget,
    Profile,
    Prototype,
    Run,
    ToolCall,
    Turn,
    Usage,
)

CHAT = (
    "Sure! Here are **three** ideas:\n\n1. A *tiny* launch post\n2. A changelog entry\n3. A tweet\n\n"
    "Want a draft?"
)
CANVAS_CHAT = "I drafted the post in a canvas so you can edit it."
CANVAS_CONTENT = (
    "# Offline mode is here\n\nYou can now **keep working without a connection**. Edits sync when "
    "you are back online.\n\n- Works on every plan\n- No setup needed"
)
VOICE = (
    "Here's what to pack:\n\n- a **rain jacket**\n- sturdy shoes\n\nCheck the forecast at "
    "https://weather.example.com before you go. 🌧️ `pack --all` is a handy command, and honestly the "
    "best trip is the one where you bring only what you need and leave room for whatever you find on the way."
)
NOTIFICATION = (
    "Your order #4821 has shipped and should arrive on Thursday between 9 and 11 am. Track it in the app, "
    "or reply STOP to turn off delivery updates. Thanks for shopping with Lumen — we hope you love it!"
)

FORM_FACTOR_TEXT = {"chat": CHAT, "canvas": CANVAS_CHAT, "voice": VOICE, "notification": NOTIFICATION}


def open_canvas_call() -> ToolCall:
    return ToolCall(
        id="call_1", name="open_canvas",
        arguments=json.dumps({"title": "Offline mode launch post", "content": CANVAS_CONTENT}),
        result="opened",
    )


def tiny_png(path: Path, rgb: tuple[int, int, int] = (220, 80, 60), size: int = 24) -> Path:
    """Write a small solid-colour PNG (no image library needed)."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))
    return path


def preview_prototype(folder: Path) -> Prototype:
    """Four profiles (chat, canvas, voice, notification) × one model × one case, each cell answered;
    the case's turn carries one image next to the file and one missing image."""
    image = image_ref(tiny_png(folder / "sketch.png"), folder)
    turn = Turn(content="Help me announce offline mode.", images=[image, image.model_copy(update={
        "path": "gone.png", "sha256": None})])
    profiles = [
        Profile(id=ff, name=f"{ff.title()} profile", form_factor=ff)  # type: ignore[arg-type]
        for ff in ("chat", "canvas", "voice", "notification")
    ]
    proto = Prototype(
        name="Lumen",
        profiles=profiles,
        models=[ModelTarget(id="fake", provider="vllm", model="fake-model", name="Fake",
                            base_url="http://127.0.0.1:9/v1")],
        cases=[Case(id="c1", description="Announce offline mode", turns=[turn])],
    )
    proto.runs = [
        Run(
            id=f"run-{p.id}", created="2026-11-29T23:00:00Z", profile=p.id, model="fake", case="c1",
            provider="vllm", model_name="fake-model", messages=build_messages(proto, p, proto.cases[0]),
            output=FORM_FACTOR_TEXT[p.id], usage=Usage(prompt_tokens=30, completion_tokens=60),
            ttft_ms=210, latency_ms=1400, cost_usd=0,
            tool_calls=[open_canvas_call()] if p.id == "canvas" else [],
        )
        for p in profiles
    ]
    return proto
