"""Attaching an image: the path relative to the prototype (with `/`), its sha256, and refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.core.image_refs import image_ref, relative_image_path, resolve_image
from app.core.prototype import ImageRef


def test_a_ref_is_relative_to_the_prototype_with_its_hash(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    picture = tmp_path / "img" / "cat.PNG"
    picture.write_bytes(b"\x89PNG not really, but bytes to hash" * 100_000)  # several read chunks
    ref = image_ref(picture, tmp_path)
    assert ref.path == "img/cat.PNG"
    assert ref.sha256 == hashlib.sha256(picture.read_bytes()).hexdigest()
    assert resolve_image(ref, tmp_path) == tmp_path / "img" / "cat.PNG"


def test_an_image_outside_the_folder_gets_dotdot_steps(tmp_path: Path) -> None:
    (tmp_path / "protos").mkdir()
    (tmp_path / "shared").mkdir()
    picture = tmp_path / "shared" / "a.jpg"
    picture.write_bytes(b"jpeg")
    assert relative_image_path(picture, tmp_path / "protos") == "../shared/a.jpg"


def test_a_file_that_is_not_an_image_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hi")
    with pytest.raises(ValueError, match=r"notes\.txt is not an image"):
        image_ref(notes, tmp_path)


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        image_ref(tmp_path / "gone.png", tmp_path)


def test_absolute_refs_resolve_as_written(tmp_path: Path) -> None:
    ref = ImageRef(path=str(tmp_path / "x.png"))
    assert resolve_image(ref, Path("/elsewhere")) == tmp_path / "x.png"


def test_a_case_drop_goes_to_the_last_user_turn_and_skips_known_paths() -> None:
    from app.core.image_refs import add_images, image_turn
    from app.core.prototype import Case, Turn

    case = Case(id="c", turns=[Turn(content="a"), Turn(role="assistant", content="b"), Turn(content="c"),
                               Turn(role="assistant", content="d")])
    assert image_turn(case) == 2
    first, second = ImageRef(path="x.png"), ImageRef(path="y.png")
    assert add_images(case, 2, [first]) == [first]
    assert add_images(case, 2, [first, second, second]) == [second]
    assert [r.path for r in case.turns[2].images] == ["x.png", "y.png"]
    assert not case.turns[0].images
    assert add_images(case, 2, [first]) == []
