"""What the canvas panel holds after a thread: open_canvas, update_canvas, the marker, nothing."""

from __future__ import annotations

import json

from app.core.formfactors.canvas_document import ThreadStep, canvas_document


def call(name: str, **arguments: str) -> dict[str, str]:
    return {"name": name, "arguments": json.dumps(arguments)}


def test_open_canvas_gives_title_content_and_chat() -> None:
    doc = canvas_document([ThreadStep("Drafted it.", [call("open_canvas", title=" Post ", content="# Hi")])])
    assert (doc.opened, doc.title, doc.content, doc.via, doc.updates, doc.chat) == (
        True, "Post", "# Hi", "tool", 0, "Drafted it.")


def test_update_canvas_in_a_follow_up_replaces_the_content_and_keeps_the_title() -> None:
    doc = canvas_document([
        ThreadStep("Drafted.", [call("open_canvas", title="Post", content="Long")]),
        ThreadStep("Shorter now.", [call("update_canvas", content="Short")]),
    ])
    assert (doc.title, doc.content, doc.updates, doc.chat) == ("Post", "Short", 1, "Shorter now.")


def test_an_update_without_an_open_still_opens_a_canvas() -> None:
    doc = canvas_document([ThreadStep("", [call("update_canvas", title="T", content="C")])])
    assert (doc.opened, doc.title, doc.content, doc.via) == (True, "T", "C", "tool")


def test_the_marker_fallback_puts_the_rest_of_the_reply_in_the_canvas() -> None:
    doc = canvas_document([ThreadStep("[canvas: Cover letter]\nDear team,\nHello.")])
    assert (doc.opened, doc.title, doc.content, doc.via, doc.chat) == (
        True, "Cover letter", "Dear team,\nHello.", "marker", "")


def test_no_canvas_keeps_the_reply_as_chat() -> None:
    doc = canvas_document([ThreadStep("Just an answer. [canvas: late] does not count")])
    assert not doc.opened and doc.via == "none" and doc.chat.startswith("Just an answer.")


def test_invalid_arguments_open_a_canvas_and_say_why_it_is_empty() -> None:
    doc = canvas_document([ThreadStep("", [{"name": "open_canvas", "arguments": "{oops"}])])
    assert doc.opened and doc.content == "" and "not valid JSON" in doc.problem


def test_other_tools_are_ignored() -> None:
    doc = canvas_document([ThreadStep("Searched.", [call("search", q="x")])])
    assert not doc.opened
