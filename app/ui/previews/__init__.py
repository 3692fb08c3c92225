"""Form-factor previews of a cell's answer (chat, canvas, voice, notification), tool-call chips
and image thumbnails. Widgets only: every text transform is `app.core.formfactors`'."""

from app.ui.previews.context import PreviewContext
from app.ui.previews.pane import KEYS_HELP, RAW_KEY, SPEAK_KEY, PreviewPane

__all__ = ["KEYS_HELP", "RAW_KEY", "SPEAK_KEY", "PreviewContext", "PreviewPane"]
