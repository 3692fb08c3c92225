"""The voice preview: the newest reply as it would be spoken, how long it takes, what fails aloud,
and a ▶ / ■ button that speaks it offline (espeak-ng, see speech.py).

Every transform is the core's (`app.core.formfactors`): this widget only lays them out, so the
preview and the `voice-friendly` assertion can never disagree.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from app.core.formfactors import VoiceFlag, speaking_seconds, spoken_text, spoken_words, voice_flags
from app.ui.elided_label import elided_label
from app.ui.jobs import Job
from app.ui.markdown_view import SafeTextBrowser, clip
from app.ui.previews.badge import GOOD, WARN, Badge
from app.ui.previews.chat import PREVIEW_LIMIT
from app.ui.previews.speech import MISSING_MESSAGE, SpeechPlayer, shared_player

BACKGROUND_FROM = 4_000
"""Replies longer than this many characters are turned into spoken text off the GUI thread."""
PLAY = "▶ Speak"
STOP = "■ Stop"


def format_duration(seconds: float) -> str:
    """`0:07`, `1:32`: how a media player writes a length."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class _Token:
    """Who a playback belongs to: outlives the widget, so a deleted cell can still be silenced."""


class VoicePreview(QWidget):
    """Spoken text, estimated time, flags with reasons, and playback."""

    def __init__(self, player: SpeechPlayer | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview-voice")
        self.player = player or shared_player()
        self._token = _Token()
        self.text = ""
        self.flags: list[VoiceFlag] = []
        self._generation = 0
        self.play_button = QToolButton(self)
        self.play_button.setObjectName("voice-play")
        self.play_button.setText(PLAY)
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play_button.clicked.connect(self.toggle_play)
        self.duration = elided_label("voice-duration", "font-size: 8pt;")  # its own line: cells get narrow
        self.flag_badge = Badge(self)
        self.flag_badge.setObjectName("voice-flag-badge")
        self.message = elided_label("voice-message", "color: #8a5300; font-size: 8pt;")
        """One line, the whole text on hover: wrapped, the install hint took half a narrow cell."""
        self.message.hide()
        self.view = SafeTextBrowser(self)
        self.view.setObjectName("voice-text")
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.play_button)
        top.addStretch(1)
        top.addWidget(self.flag_badge)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.duration)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        self.player.sig_state_changed.connect(self._on_state_changed)
        self.player.sig_problem.connect(self._on_problem)
        token, player = self._token, self.player
        self.destroyed.connect(lambda _obj=None: player.stop(token))
        if not self.player.available:
            self._disable_playback()

    # -- content -----------------------------------------------------------------------------------

    def show_reply(self, reply: str) -> None:
        """Show a reply as spoken; a new reply silences the old one. A long reply is transformed
        off the GUI thread (the core's regexes take ~5 ms per 1,000 characters)."""
        self.stop()
        self._generation += 1
        if len(reply) <= BACKGROUND_FROM:
            self._show(spoken_text(reply), voice_flags(reply))
            return
        self.text, self.flags = "", []
        self.play_button.setEnabled(False)
        self.duration.setText("Working out the spoken text…")
        self.view.clear()
        generation = self._generation
        (
            Job(lambda: (spoken_text(reply), voice_flags(reply)))
            .owned_by(self)
            .success(lambda result: self._show(*result) if generation == self._generation else None)
            .start()
        )

    def _show(self, text: str, flags: list[VoiceFlag]) -> None:
        self.text, self.flags = text, flags
        words = spoken_words(self.text)
        self.duration.setText(f"≈ {format_duration(speaking_seconds(self.text))} · {words} words")
        self.duration.setToolTip("Estimated speaking time, at 150 words a minute, a conversational pace; "
                                 "numbers and symbols said as several words make it longer.")
        if flags:
            kinds = ", ".join(f.kind for f in flags)
            plural = "s" if len(flags) > 1 else ""
            self.flag_badge.show_state(f"⚠ {len(flags)} flag{plural}", WARN, f"Doesn't work aloud: {kinds}")
        else:
            self.flag_badge.show_state("✓ fine aloud", GOOD, "Nothing that fails aloud was found.")
        self.view.setHtml(_voice_html(clip(self.text, PREVIEW_LIMIT), flags))
        self.play_button.setEnabled(self.player.available and bool(self.text))

    # -- playback ----------------------------------------------------------------------------------

    def toggle_play(self) -> None:
        if self.player.owner() is self._token:
            self.stop()
        elif self.player.available and self.text:
            self.message.hide()
            self.player.play(self.text, self._token)

    def stop(self) -> None:
        self.player.stop(self._token)

    @property
    def playing(self) -> bool:
        return self.player.owner() is self._token

    def _on_state_changed(self, owner: object, playing: bool) -> None:
        if owner is self._token:
            self.play_button.setText(STOP if playing else PLAY)
            self.play_button.setToolTip(
                "Stop speaking (s)" if playing else "Speak this reply aloud, offline (s)"
            )

    def _on_problem(self, owner: object, message: str) -> None:
        if owner is self._token:
            self.message.setText(message)
            self.message.show()

    def _disable_playback(self) -> None:
        self.play_button.setEnabled(False)
        self.play_button.setToolTip(MISSING_MESSAGE)
        self.message.setText(MISSING_MESSAGE)
        self.message.show()


def _voice_html(text: str, flags: list[VoiceFlag]) -> str:
    """The spoken text, then what fails aloud with why; everything escaped (model text is untrusted)."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
    paragraphs = paragraphs or "<p><i>(nothing to say)</i></p>"
    if not flags:
        return paragraphs
    items = "".join(
        f"<li><b>{html.escape(f.kind)}</b> ({f.count}): {html.escape(f.reason)}"
        + (f" <span style='color:gray'>e.g. “{html.escape(f.example)}”</span>" if f.example else "")
        + "</li>"
        for f in flags
    )
    return f"{paragraphs}<p style='color:#8a5300'><b>Doesn't work aloud</b></p><ul>{items}</ul>"
