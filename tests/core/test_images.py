"""Images on case turns: attaching, the file:line:col problems `validate` reports, and the round trip."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.cli import main
from app.core.document import dumps_prototype, load_prototype, parse_prototype
from app.core.errors import PrototypeError
from app.core.images import MAX_IMAGE_BYTES, ImageError, attach, check_prototype_images, load_image
from app.core.messages import build_messages
from app.core.prototype import ImageRef

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def write_proto(folder: Path, images: str) -> Path:
    path = folder / "proto.yaml"
    path.write_text(
        "protostudio: 3\n"
        "name: images\n"
        "profiles:\n"
        "  - id: p\n"
        "    form_factor: chat\n"
        "cases:\n"
        "  - id: c\n"
        "    turns:\n"
        "      - role: user\n"
        "        content: What is in this picture?\n"
        f"        images:\n{images}",
        encoding="utf-8",
    )
    return path


def test_attach_records_a_relative_path_and_the_sha256(tmp_path: Path) -> None:
    (tmp_path / "shots").mkdir()
    image = tmp_path / "shots" / "a.png"
    image.write_bytes(PNG)
    ref = attach(tmp_path, image)
    assert ref.path == "shots/a.png"
    assert ref.sha256 == hashlib.sha256(PNG).hexdigest()
    assert load_image(tmp_path, ref).data_url().startswith("data:image/png;base64,")


def test_validate_names_each_bad_image_with_its_position(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.png").write_bytes(PNG)
    (tmp_path / "notes.txt").write_text("not an image")
    with (tmp_path / "huge.png").open("wb") as big:  # sparse: cheap to make
        big.write(PNG)
        big.truncate(MAX_IMAGE_BYTES + 1)
    path = write_proto(tmp_path, (
        "          - path: ok.png\n"
        f"            sha256: {hashlib.sha256(PNG).hexdigest()}\n"
        "          - path: missing.png\n"
        "          - path: notes.txt\n"
        "          - path: huge.png\n"
        "          - path: ok.png\n"
        f"            sha256: {'f' * 64}\n"
    ))
    assert main(["validate", str(path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{path}:14:13: image 'missing.png' not found (looked at {tmp_path / 'missing.png'})",
        f"{path}:15:13: image 'notes.txt' is not a PNG, JPEG, WEBP or GIF image",
        f"{path}:16:13: image 'huge.png' is 20.0 MB, over the 20 MB limit per image "
        "(OpenAI's documented image-input limit)",
        f"{path}:17:13: image 'ok.png' changed since it was attached (sha256 differs); attach it again to "
        "accept the new file",
    ]


def test_a_file_with_images_loads_and_saves_unchanged(tmp_path: Path) -> None:
    (tmp_path / "ok.png").write_bytes(PNG)
    digest = hashlib.sha256(PNG).hexdigest()
    path = write_proto(tmp_path, f"          - path: ok.png\n            sha256: {digest}\n")
    proto = load_prototype(path)
    assert dumps_prototype(proto) == path.read_text(encoding="utf-8")
    check_prototype_images(proto, str(path))  # nothing wrong
    (message,) = build_messages(proto, proto.profiles[0], proto.cases[0])
    assert message.images == proto.cases[0].turns[0].images


def test_images_move_with_the_file_not_the_working_folder(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok.png").write_bytes(PNG)
    path = write_proto(tmp_path, "          - path: ok.png\n")
    monkeypatch.chdir("/")
    proto = load_prototype(path)
    check_prototype_images(proto, str(path))
    assert load_image(proto.base_dir, ImageRef(path="ok.png")).mime == "image/png"


def test_unreadable_image_error_is_plain(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not found"):
        load_image(tmp_path, ImageRef(path="nope.jpg"))


def test_messages_with_images_and_tool_exchanges_survive_the_prompts_table() -> None:
    text = (
        "protostudio: 3\nname: t\nprofiles:\n  - id: p\n    form_factor: chat\n"
        "models:\n  - id: m\n    provider: openai\n    model: x\n"
        "cases:\n  - id: c\n    turns:\n      - role: user\n        content: hi\n"
        "runs:\n  - id: r1\n    created: '2026-01-01T00:00:00Z'\n    profile: p\n    model: m\n    case: c\n"
        "    messages:\n"
        "      - role: user\n        content: hi\n        images:\n          - path: a.png\n"
        "      - role: assistant\n        content: ''\n        tool_calls:\n"
        "          - id: call_1\n            name: open_canvas\n"
        "            arguments: '{}'\n            result: ok\n"
        "      - role: tool\n        content: ok\n        tool_call_id: call_1\n"
        "    output: done\n"
    )
    proto = parse_prototype(text)
    saved = dumps_prototype(proto)
    again = parse_prototype(saved)
    assert again.runs[0].messages == proto.runs[0].messages
    assert again.runs[0].messages[1].tool_calls[0].name == "open_canvas"
    assert dumps_prototype(again) == saved


def test_profiles_naming_unknown_tools_are_positioned_errors() -> None:
    text = "protostudio: 3\nname: t\nprofiles:\n  - id: p\n    form_factor: chat\n    tools: [open_canvass]\n"
    with pytest.raises(PrototypeError) as caught:
        parse_prototype(text, "t.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (6, 13)
    assert "unknown tool 'open_canvass'" in problem.message


def test_cli_attach_records_the_image_and_refuses_a_bad_one(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.png").write_bytes(PNG)
    (tmp_path / "notes.txt").write_text("no")
    path = tmp_path / "proto.yaml"
    path.write_text("protostudio: 3\nname: t\ncases:\n  - id: c\n    turns:\n      - role: user\n"
                    "        content: hi\n", encoding="utf-8")
    before = path.read_bytes()
    assert main(["attach", str(path), "c", str(tmp_path / "ok.png"), str(tmp_path / "notes.txt")]) == 2
    assert "is not a PNG, JPEG, WEBP or GIF image" in capsys.readouterr().err
    assert path.read_bytes() == before, "nothing changes unless every image attaches"
    assert main(["attach", str(path), "c", str(tmp_path / "ok.png")]) == 0
    (ref,) = load_prototype(path).cases[0].turns[0].images
    assert ref.path == "ok.png" and ref.sha256 == hashlib.sha256(PNG).hexdigest()
    assert main(["attach", str(path), "nope", str(tmp_path / "ok.png")]) == 2
    assert "no case with id 'nope'" in capsys.readouterr().err
