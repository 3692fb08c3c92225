"""A model's answer cannot freeze the window with tables or emphasis: views lay out a budget of it."""

from __future__ import annotations

from PySide6.QtGui import QTextTable

from app.ui.markdown_budget import PREVIEW_BUDGET_US, TEXT_VIEW_BUDGET_US, line_cost, within_budget
from app.ui.markdown_view import TEXT_VIEW_CUT_NOTE, SafeTextBrowser
from app.ui.previews.chat import PREVIEW_CUT_NOTE, ChatPreview
from app.ui.previews.context import ChatTurn


def table(columns: int, rows: int) -> str:
    return "|" + "a|" * columns + "\n|" + "-|" * columns + "\n" + ("|" + "b|" * columns + "\n") * rows


def table_rows(view: SafeTextBrowser) -> int:
    rows = 0
    block = view.document().begin()
    while block.isValid():
        cursor_table = view.textCursor()
        cursor_table.setPosition(block.position())
        found = cursor_table.currentTable()
        if isinstance(found, QTextTable):
            rows = max(rows, found.rows())
        block = block.next()
    return rows


def test_an_answer_within_budget_is_left_as_it_is() -> None:
    text = "Intro with **bold** and _it_.\n\n" + table(4, 10) + "\nThe end."
    assert within_budget(text, PREVIEW_BUDGET_US, "NOTE").text == text


def test_a_big_table_is_cut_at_a_row_with_the_note_after() -> None:
    text = "Here:\n\n" + table(10, 300) + "\nThat is all."
    shown = within_budget(text, PREVIEW_BUDGET_US, "NOTE")
    kept, note = shown.text.rsplit("\n\n", 1)
    assert shown.cut and note == "NOTE"
    assert text.startswith(kept) and text[len(kept)] == "\n"  # whole lines only
    assert line_cost(kept) <= PREVIEW_BUDGET_US
    assert 10 < kept.count("\n|b|") < 300


def test_tables_in_code_blocks_cost_nothing() -> None:
    text = "```\n" + table(10, 300) + "```\nafter\n"
    assert within_budget(text, PREVIEW_BUDGET_US, "NOTE").text == text


def test_one_enormous_line_is_cut_inside() -> None:
    shown = within_budget("*a" * 30_000, TEXT_VIEW_BUDGET_US, "NOTE")
    assert shown.cut and 0 < len(shown.text) < 30_000 and shown.text.endswith("\n\nNOTE")


def test_chat_bubble_lays_out_a_budget_of_a_big_table(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = ChatPreview()
    qtbot.addWidget(view)
    view.show_turns([ChatTurn("user", "A table of 300 rows, please"), ChatTurn("assistant", table(10, 300))])
    assert 10 < table_rows(view) < 40
    assert PREVIEW_CUT_NOTE in view.toPlainText()


def test_text_view_shows_more_of_it_but_not_all(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = SafeTextBrowser()
    qtbot.addWidget(view)
    view.show_markdown(table(10, 1000))
    assert 60 < table_rows(view) < 1000  # a bubble shows about 18 rows of it
    assert TEXT_VIEW_CUT_NOTE in view.toPlainText()
    view.show_markdown(table(4, 20))
    assert table_rows(view) == 21 and TEXT_VIEW_CUT_NOTE not in view.toPlainText()
