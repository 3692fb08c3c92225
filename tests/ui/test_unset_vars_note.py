"""The case editor warns about a `{{var}}` the case does not set, and the warning goes once it is set."""

from __future__ import annotations

from app.core.prototype import Case, Profile, Turn
from app.ui.case_editor import CaseEditor


def test_warning_names_the_var_and_clears_when_set(qtbot) -> None:
    profiles = [Profile(id="p", name="Grumpy cat", system_prompt="You are {{cat_name}}.")]
    editor = CaseEditor(lambda _structural: None, profiles=lambda: profiles)
    qtbot.addWidget(editor)
    case = Case(id="c", turns=[Turn(content="Hello")])
    editor.set_case(case)
    assert not editor.unset_note.isHidden()
    assert "{{cat_name}}" in editor.unset_note.text() and "Grumpy cat" in editor.unset_note.text()
    editor.add_var()
    row = editor.vars.rowCount() - 1
    editor.vars.item(row, 0).setText("cat_name")  # as if typed into the Variable column
    qtbot.waitUntil(lambda: case.vars.get("cat_name") is not None)
    assert editor.unset_note.isHidden()
