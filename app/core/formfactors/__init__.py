"""Form factors: the text transforms a preview needs, so the UI only renders them.

- `voice`: the reply as it would be spoken, its speaking time, and what does not work aloud;
- `notification`: what a phone notification card shows and what it cuts, per platform;
- `canvas`: whether a reply opened a canvas, by a real `open_canvas` tool call or the text marker.

Pure functions, no Qt, no network: the GUI preview, the CLI and the eval assertions share them.
"""

from app.core.formfactors.canvas import CanvasOpening, canvas_opened
from app.core.formfactors.notification import (
    DEFAULT_PLATFORM,
    PLATFORMS,
    NotificationLimits,
    NotificationPreview,
    notification_preview,
)
from app.core.formfactors.voice import (
    LONG_SENTENCE_WORDS,
    SPEAKING_WPM,
    VoiceFlag,
    speaking_seconds,
    spoken_text,
    spoken_words,
    voice_flags,
)

__all__ = [
    "DEFAULT_PLATFORM",
    "LONG_SENTENCE_WORDS",
    "PLATFORMS",
    "SPEAKING_WPM",
    "CanvasOpening",
    "NotificationLimits",
    "NotificationPreview",
    "VoiceFlag",
    "canvas_opened",
    "notification_preview",
    "speaking_seconds",
    "spoken_text",
    "spoken_words",
    "voice_flags",
]
