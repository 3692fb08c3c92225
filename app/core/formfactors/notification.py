"""The notification form factor: what a phone notification card shows, and what it cuts off.

Neither Apple nor Google publishes character limits: the card wraps and truncates by width and
line count, which vary with device, font and language. The figures below are the published
measurements and vendor guides we could find, with the source next to each. Where sources
disagree we take the smallest figure given for a current phone (ranges "by screen density"
count at their upper, high-density end; measurements from iOS 7 / Android 4.4 are obsolete).

The model's text is the notification body, shown as written: notifications render no markdown,
so `**bold**` shows its asterisks. Runs of whitespace (newlines included) are collapsed to one
space, and characters are Unicode code points. A cut body ends with "…", which takes one of the
visible characters, as on both platforms.
"""

from __future__ import annotations

from dataclasses import dataclass

ELLIPSIS = "…"


@dataclass(frozen=True)
class NotificationLimits:
    """Visible characters of one platform's card: the title's (one line) and the body's."""

    platform: str
    label: str
    title_chars: int
    body_chars: int
    body_lines: int
    sources: str


PLATFORMS: dict[str, NotificationLimits] = {
    limits.platform: limits
    for limits in (
        NotificationLimits(
            "ios-lock-screen", "iOS lock screen / Notification Center", 50, 178, 4,
            "Title ~50: mojicnt.click 'Push Notification Character Limits' (iOS lock screen, 1 line). "
            "Body 178 (about 4 lines): same page and exchangetuts.com ('178 before the text is cut "
            "off'); Batch (doc.batch.com 'optimal length for every iOS/Android push') says up to 180 "
            "over 4 lines: we take 178. The ~110 from a 2011 Stack Overflow test is iOS 7 era.",
        ),
        NotificationLimits(
            "ios-banner", "iOS banner (phone in use)", 50, 80, 2,
            "Title ~50, body ~80 (2 lines): mojicnt.click 'Push Notification Character Limits'. "
            "An older Stack Overflow measurement (iOS 7 era) found banners cut at ~62.",
        ),
        NotificationLimits(
            "android-collapsed", "Android collapsed (one line each)", 55, 45, 1,
            "Title: 65 per mojicnt.click and exchangetuts.com, 20-55 by screen density per Emarsys "
            "SDK 'Content Limits' (collapsed, 1 line): we take 55. Body ~45 (1 line): mojicnt.click; "
            "Batch says ~50, Emarsys 20-55: we take 45.",
        ),
        NotificationLimits(
            "android-expanded", "Android expanded (BigTextStyle)", 65, 240, 0,
            "Title 65: mojicnt.click and exchangetuts.com; Emarsys SDK says 20-80 by density. "
            "Body 240: mojicnt.click and exchangetuts.com; Emarsys says 200-460 by density: we take 240.",
        ),
    )
}
"""The phone notification cards a preview can show, with the source of each number."""

DEFAULT_PLATFORM = "ios-lock-screen"
"""The card `fits-notification` and the preview use unless told otherwise."""


@dataclass(frozen=True)
class NotificationPreview:
    """What a card shows (`*_visible`, without the ellipsis) and what it cuts (`*_cut`)."""

    platform: str
    title_visible: str
    title_cut: str
    body_visible: str
    body_cut: str

    @property
    def truncated(self) -> bool:
        """Whether anything is cut off."""
        return bool(self.title_cut or self.body_cut)

    @property
    def shown_title(self) -> str:
        """The title as displayed, with "…" when cut."""
        return self.title_visible + (ELLIPSIS if self.title_cut else "")

    @property
    def shown_body(self) -> str:
        """The body as displayed, with "…" when cut."""
        return self.body_visible + (ELLIPSIS if self.body_cut else "")


def notification_preview(
    text: str, platform: str = DEFAULT_PLATFORM, title: str = ""
) -> NotificationPreview:
    """Cut `text` (the body) and `title` (e.g. the app's name) at the platform's visible limits."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown notification platform {platform!r}; known: {', '.join(PLATFORMS)}")
    limits = PLATFORMS[platform]
    title_visible, title_cut = cut(title, limits.title_chars)
    body_visible, body_cut = cut(text, limits.body_chars)
    return NotificationPreview(platform, title_visible, title_cut, body_visible, body_cut)


def flatten(text: str) -> str:
    """Whitespace runs (newlines too) as single spaces, trimmed: how the card lays the text out."""
    return " ".join(text.split())


def cut(text: str, limit: int) -> tuple[str, str]:
    """(visible, cut off) for a flattened `text` on a line budget of `limit` characters, keeping
    one character for the ellipsis when it is cut."""
    flat = flatten(text)
    if len(flat) <= limit:
        return flat, ""
    keep = max(limit - 1, 0)
    return flat[:keep].rstrip(), flat[keep:].lstrip()
