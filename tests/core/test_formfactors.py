"""Form-factor text transforms: voice stripping and flags, speaking time, notification cuts, canvas."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.core.evals.assertions import AssertionSpecError, check_assertion, describe, grade
from app.core.formfactors import (
    LONG_SENTENCE_WORDS,
    PLATFORMS,
    SPEAKING_WPM,
    canvas_opened,
    notification_preview,
    speaking_seconds,
    spoken_text,
    spoken_words,
    voice_flags,
)
from app.core.prototype import Assertion

REPLY = """# Your **trip** to Paris 🇫🇷

Here are the steps:
- Book the [train](https://sncf.com) early 🚄
- Check https://example.com/x?y=1 for times.
1. Pack `light` and _warm_ clothes

| day | plan |
|---|---|
| Mon | Louvre |

```python
print(1)
```
> Costs 5 * 3 = 15 euros, see my_var.
"""


# -- voice ------------------------------------------------------------------------------------------


def test_spoken_text_strips_markdown_emoji_and_urls_keeping_link_text() -> None:
    spoken = spoken_text(REPLY)
    assert spoken.split("\n\n") == [
        "Your trip to Paris.",
        "Here are the steps: Book the train early. Check for times. Pack light and warm clothes.",
        "day, plan. Mon, Louvre.",
        "print(1)",
        "Costs 5 * 3 = 15 euros, see my_var.",
    ]
    for gone in ("**", "#", "http", "sncf.com", "🇫🇷", "🚄", "`", "|", "---", "> "):
        assert gone not in spoken, gone


def test_spoken_text_leaves_plain_speech_alone() -> None:
    plain = "Sure. Your table for two is booked at eight, under the name Lee."
    assert spoken_text(plain) == plain
    assert spoken_text("Great news! 🎉 It's done 👍🏽.") == "Great news! It's done."


def test_speaking_time_uses_the_documented_rate() -> None:
    assert SPEAKING_WPM == 150
    assert speaking_seconds("word " * 150) == pytest.approx(60.0)
    assert speaking_seconds("word " * 75, wpm=100) == pytest.approx(45.0)
    assert spoken_words("Hi — there 🎉 , friend 2") == 4  # dashes, emoji and commas are not words
    assert speaking_seconds(spoken_text(REPLY)) == pytest.approx(spoken_words(spoken_text(REPLY)) * 0.4)
    with pytest.raises(ValueError, match="above 0"):
        speaking_seconds("hi", wpm=0)


def test_voice_flags_name_what_fails_aloud_with_reasons() -> None:
    flags = {f.kind: f for f in voice_flags(REPLY)}
    assert list(flags) == ["lists", "tables", "code", "links", "urls"]
    assert flags["lists"].count == 3
    assert flags["code"].count == 2  # one fenced block, one inline span
    assert flags["links"].example == "[train](https://sncf.com)"
    assert flags["urls"].example == "https://example.com/x?y=1"
    assert flags["tables"].example == "| day | plan |"
    assert all(f.reason and "\n" not in f.reason for f in flags.values())


def test_voice_flags_long_sentences_at_the_documented_threshold() -> None:
    at_limit = " ".join(["word"] * LONG_SENTENCE_WORDS) + "."
    over = " ".join(["word"] * (LONG_SENTENCE_WORDS + 1)) + "."
    assert voice_flags(at_limit) == []
    flags = voice_flags(f"Short one. {over} Another short one.")
    assert [(f.kind, f.count) for f in flags] == [("long sentences", 1)]
    assert flags[0].example.startswith("word word")


def test_plain_spoken_reply_has_no_flags() -> None:
    assert voice_flags("Your table is booked. See you at eight!") == []


# -- notification -----------------------------------------------------------------------------------


def test_every_platform_documents_its_sources() -> None:
    assert set(PLATFORMS) == {"ios-lock-screen", "ios-banner", "android-collapsed", "android-expanded"}
    for limits in PLATFORMS.values():
        assert limits.title_chars > 0 and limits.body_chars > 0
        assert limits.sources and str(limits.body_chars) in limits.sources


def test_notification_fits_untouched_and_flattens_whitespace() -> None:
    preview = notification_preview("Your order\n  shipped.", "ios-lock-screen", title="Shop")
    assert (preview.title_visible, preview.body_visible) == ("Shop", "Your order shipped.")
    assert not preview.truncated
    assert preview.shown_body == "Your order shipped."


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_notification_cuts_at_the_platform_limit(platform: str) -> None:
    limit = PLATFORMS[platform].body_chars
    text = "".join(str(i % 10) for i in range(limit + 30))
    preview = notification_preview(text, platform)
    assert preview.truncated
    assert len(preview.shown_body) == limit  # the ellipsis takes the last visible character
    assert preview.shown_body.endswith("…")
    assert preview.body_visible + preview.body_cut == text
    exact = notification_preview(text[:limit], platform)
    assert not exact.truncated and exact.body_visible == text[:limit]


def test_notification_title_is_cut_too_and_unknown_platform_is_refused() -> None:
    preview = notification_preview("ok", "android-collapsed", title="T" * 80)
    assert preview.truncated and len(preview.shown_title) == PLATFORMS["android-collapsed"].title_chars
    with pytest.raises(ValueError, match="ios-banner"):
        notification_preview("x", "blackberry")


# -- canvas -----------------------------------------------------------------------------------------


def test_canvas_marker_fallback() -> None:
    assert canvas_opened("[canvas: Cover letter]\nDear team") == canvas_opened("  [canvas:Cover letter] x")
    opened = canvas_opened("[canvas: Cover letter]\nDear team")
    assert (opened.opened, opened.title, opened.via) == (True, "Cover letter", "marker")
    assert not canvas_opened("Here you go: [canvas: Cover letter]").opened  # not at the start
    assert not canvas_opened("[canvas: ]\nempty title").opened
    assert not canvas_opened("Just a chat answer.").opened


def test_canvas_tool_call_wins_over_the_marker() -> None:
    calls: list[dict[str, Any]] = [
        {"name": "search", "arguments": {"q": "x"}},
        {"name": "open_canvas", "arguments": '{"title": "Launch post", "content": "..."}'},
    ]
    opened = canvas_opened("[canvas: Other]\n", calls)
    assert (opened.opened, opened.title, opened.via) == (True, "Launch post", "tool")
    openai_shape = [{"id": "c1", "type": "function",
                     "function": {"name": "open_canvas", "arguments": '{"title": "Spec"}'}}]
    assert canvas_opened("", openai_shape).title == "Spec"
    bad_json = canvas_opened("", [{"name": "open_canvas", "arguments": "{oops"}])
    assert bad_json.opened and bad_json.title == ""
    assert not canvas_opened("chat answer", [{"name": "search", "arguments": {}}]).opened


# -- the assertions built on them -------------------------------------------------------------------


def _grade(type_: str, value: Any, output: str, **kw: Any) -> Any:
    return asyncio.run(grade(Assertion(type=type_, value=value), output, **kw))


def test_canvas_opened_assertion_reads_tool_calls() -> None:
    calls = [{"name": "open_canvas", "arguments": {"title": "Cover letter", "content": "Dear"}}]
    result = _grade("canvas-opened", "cover", "Here is your draft.", tool_calls=calls)
    assert result.passed, result.reason
    assert "open_canvas" in result.reason
    assert not _grade("canvas-opened", None, "Here is your draft.").passed
    assert _grade("not-canvas-opened", None, "Here is your draft.").passed


def test_voice_friendly_reasons_name_the_problems() -> None:
    reason = _grade("voice-friendly", 10, "**Hi** see https://x.io " + "word " * 40).reason
    assert "bold text (1)" in reason and "URLs (1)" in reason and "17 s spoken" in reason
    assert "under 10 s" in reason


def test_fits_notification_all_platforms_and_reason() -> None:
    text = "Your parcel from Lumen arrives Friday between 9 and 12; reply STOP to opt out."
    assert _grade("fits-notification", {"platform": "ios-lock-screen"}, text).passed
    result = _grade("fits-notification", {"platform": "all"}, text)
    assert not result.passed and "android-collapsed cuts after" in result.reason
    assert _grade("fits-notification", {"phrase": "ARRIVES FRIDAY", "platform": "all"}, text).passed


@pytest.mark.parametrize(
    ("type_", "value", "needle"),
    [
        ("voice-friendly", 0, "above 0"),
        ("voice-friendly", "ten", "above 0"),
        ("voice-friendly", True, "above 0"),
        ("fits-notification", "Friday", "mapping"),
        ("fits-notification", {"phrase": ""}, "non-empty"),
        ("fits-notification", {"platform": "pager"}, "known: ios-lock-screen"),
        ("fits-notification", {"phrse": "x"}, "unknown key 'phrse'"),
        ("canvas-opened", "", "non-empty"),
        ("canvas-opened", ["a"], "non-empty"),
    ],
)
def test_form_factor_values_are_checked(type_: str, value: Any, needle: str) -> None:
    with pytest.raises(AssertionSpecError, match=needle):
        check_assertion(Assertion(type=type_, value=value))
    assert not _grade(type_, value, "x").passed


def test_describe_fits_notification() -> None:
    value = {"phrase": "Friday", "platform": "ios-banner"}
    label = describe(Assertion(type="fits-notification", value=value))
    assert label == 'fits-notification ios-banner "Friday"'


def test_table_editor_reads_form_factor_values() -> None:
    from app.core.evals.editing import value_from_text, value_to_text

    assert value_from_text("voice-friendly", " 20 ") == 20
    assert value_from_text("not-voice-friendly", "12.5") == 12.5
    assert value_from_text("voice-friendly", "soon") == "soon"  # kept, so check_assertion can say why
    value = {"phrase": "arrives Friday", "platform": "ios-banner"}
    assert value_from_text("fits-notification", value_to_text(value)) == value
    assert value_from_text("canvas-opened", "Cover") == "Cover"
    assert value_from_text("canvas-opened", "") is None


def test_links_with_parentheses_keep_their_text() -> None:
    reply = "See [Mercury](https://en.wikipedia.org/wiki/Mercury_(planet)) tonight."
    assert spoken_text(reply) == "See Mercury tonight."
    assert [f.kind for f in voice_flags(reply)] == ["links"]


def test_fits_notification_says_when_the_phrase_is_missing() -> None:
    result = _grade("fits-notification", {"phrase": "refund"}, "Your order shipped.")
    assert not result.passed
    assert result.reason.startswith('the text has no "refund"')
