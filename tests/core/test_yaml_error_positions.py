"""Syntax errors point at where the broken token starts, not where the parser gave up (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.document import load_prototype
from app.core.errors import PrototypeError

HEAD = "protostudio: 3\nname: broken\n"

BROKEN = [
    # (what, text after HEAD, expected line:col, words the message must contain)
    ("unclosed double quote",
     'profiles:\n  - id: a\n    system_prompt: "hello\n    form_factor: chat\n\n\n\n',
     "5:20", "never closed"),
    ("unclosed single quote", "description: 'it is\ntags: [a]\n", "3:14", "never closed"),
    ("unclosed quote on the last line", 'description: "open\n', "3:14", "never closed"),
    ("key without its colon", "description: x\nfoo\nbar: 1\n", "4:1", "key: value"),
    ("unclosed flow list", "tags: [a, b\ndescription: x\n", "3:7", ""),
    ("unclosed flow mapping", "vars_note: {a: 1\ndescription: x\n", "3:12", ""),
    ("unknown escape", 'description: "a\\qb"\n', "3:16", "escape"),  # the backslash
    ("tab indentation", "profiles:\n\t- id: a\n", "4:1", "tab"),
    ("value where a key goes", "description: a: b\n", "3:15", "key: value"),
]


@pytest.mark.parametrize(("what", "body", "where", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_error_points_at_the_broken_token(
    tmp_path: Path, what: str, body: str, where: str, words: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(PrototypeError) as caught:
        load_prototype(path)
    text = str(caught.value)
    assert f"{path}:{where}:" in text, text
    assert words in text, text
