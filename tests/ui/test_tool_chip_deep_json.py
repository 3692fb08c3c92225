"""A tool call whose arguments nest too deep shows as invalid JSON, not a traceback in paint code."""

from __future__ import annotations

from app.core.prototype import ToolCall
from app.ui.previews.tool_chips import call_details, chip_text


def test_deep_arguments_show_as_invalid_json() -> None:
    deep = "[" * 3000 + "]" * 3000
    call = ToolCall(id="c1", name="lookup", arguments=deep)
    assert chip_text(call) == "lookup(⚠ invalid JSON)"
    assert "not valid JSON, shown as the model wrote it" in call_details(call)
