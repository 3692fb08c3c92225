"""A cell's answer body: the preview for its profile's form factor, or the text view, one click
(or `r`) apart, with the thread's tool-call chips above whichever is shown.

The text view is the cell's own `SafeTextBrowser` (the thread as rendered markdown, and where
streaming text arrives); the pane shows it while a cell is queued or streaming, and whenever the
person asked for text. Previews are built on first use and rendered only when shown.

A thread that just finished streaming is shown lazily (`show_thread(..., lazy=True)`): the streamed
text stays up until the pane is painted (on screen), then the render waits its turn in
`app/ui/render_queue.py`, one pane per event-loop turn.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QStackedWidget, QToolButton, QVBoxLayout, QWidget

from app.core.formfactors.canvas_document import canvas_document
from app.core.prototype import Run
from app.ui.markdown_view import SafeTextBrowser
from app.ui.previews.canvas import CanvasPreview
from app.ui.previews.chat import ChatPreview
from app.ui.previews.context import PreviewContext, thread_steps, thread_turns
from app.ui.previews.notification import NotificationPreviewWidget
from app.ui.previews.tool_chips import ToolChips
from app.ui.previews.voice import VoicePreview
from app.ui.render_queue import render_queue

RAW_KEY = "r"
"""The key that switches the focused cell between its preview and the text."""
SPEAK_KEY = "s"
"""The key that speaks (or stops) the focused voice cell."""
KEYS_HELP = f"{RAW_KEY}: preview / text · {SPEAK_KEY}: speak a voice preview"

_NAMES = {"chat": "Chat", "canvas": "Canvas", "voice": "Voice", "notification": "Notification"}


class PreviewPane(QWidget):
    """Chips row with the preview/text toggle, over a stack of the preview and the text view."""

    def __init__(self, text_view: SafeTextBrowser, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview-pane")
        self.text_view = text_view
        self.context = PreviewContext()
        self.thread: list[Run] = []
        self.raw = False
        """The person asked for the text view."""
        self.live = False
        """Queued or streaming: the text view, whatever was asked."""
        self._dirty = True
        self.pending = False
        """A finished thread waits to be rendered (shown lazily, not yet on screen or not yet its turn)."""
        self.renders = 0
        """Lazily shown threads rendered so far (tests and the bench: lazy must still render)."""
        self.previews: dict[str, QWidget] = {}
        self.chips = ToolChips(self)
        self.chips.hide()
        self.toggle = QToolButton(self)
        self.toggle.setObjectName("preview-toggle")
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.toggle.setStyleSheet("QToolButton { font-size: 8pt; padding: 0 4px; }")
        self.toggle.toggled.connect(self.set_raw)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(3)
        bar.addWidget(self.chips, 1)
        bar.addStretch(0)
        bar.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.bar = QWidget(self)
        self.bar.setLayout(bar)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(text_view)
        text_view.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.bar)
        layout.addWidget(self.stack, 1)
        self._update_toggle()
        self._apply()

    # -- inputs ------------------------------------------------------------------------------------

    def set_context(self, context: PreviewContext) -> None:
        """The column's form factor and names; re-renders only when they changed."""
        if context != self.context:
            self.context = context
            self._dirty = True
            self._update_toggle()
            self._apply()

    def show_thread(self, thread: Sequence[Run], *, lazy: bool = False) -> None:
        """A finished thread (or none): chips for its tool calls, the preview when asked for.

        `lazy`: the answer just finished streaming; keep the streamed text up and render once the
        pane is on screen, in the render queue's turn (see the module docstring)."""
        changed = [r.id for r in thread] != [r.id for r in self.thread]
        if changed:
            self.stop_voice()
        self.thread = list(thread)
        self._dirty = True
        self.chips.show_calls([call for run in self.thread for call in run.tool_calls])
        if lazy and self.thread and self.live:
            self.pending = True  # the text view shows the streamed text meanwhile
            self.text_view.viewport().update()  # painted only when on screen: then the render is asked for
            return
        self.live = False
        self._apply()

    def render_pending(self) -> None:
        """Render a lazily shown thread now (the render queue calls this; tests may too)."""
        if self.pending:
            self._apply()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The text view (showing the streamed text) is painted: on screen, so ask for the render."""
        if self.pending and event.type() == QEvent.Type.Paint:
            render_queue().request(self, self.render_pending)
        return False

    def show_live(self) -> None:
        """Queued or streaming: text arrives in the text view; a voice stops."""
        self.pending = False  # a new stream replaces a finished answer not rendered yet
        render_queue().cancel(self)
        self.live = True
        self.stop_voice()
        self.chips.show_calls([])
        self._apply()

    def set_raw(self, raw: bool) -> None:
        """Show the text view (True) or the form factor's preview (False)."""
        self.raw = raw
        if self.toggle.isChecked() != raw:
            self.toggle.setChecked(raw)
        self._update_toggle()
        self._apply()

    def toggle_raw(self) -> None:
        self.set_raw(not self.raw)

    def speak(self) -> None:
        """Speak or stop the voice preview (only a voice cell showing its preview)."""
        voice = self.previews.get("voice")
        if isinstance(voice, VoicePreview) and self.showing_preview():
            voice.toggle_play()

    def stop_voice(self) -> None:
        voice = self.previews.get("voice")
        if isinstance(voice, VoicePreview):
            voice.stop()

    # -- state -------------------------------------------------------------------------------------

    def showing_preview(self) -> bool:
        return self.stack.currentWidget() is not self.text_view

    def current_preview(self) -> QWidget | None:
        return self.stack.currentWidget() if self.showing_preview() else None

    def _update_toggle(self) -> None:
        name = _NAMES.get(self.context.form_factor, "Preview")
        self.toggle.setText("Text" if not self.raw else name)
        self.toggle.setToolTip(
            f"Showing the {name.lower()} preview: click or press {RAW_KEY} for the text"
            if not self.raw else f"Showing the text: click or press {RAW_KEY} for the {name.lower()} preview"
        )

    def _apply(self) -> None:
        if self.pending:  # a finished thread: rendered now, whatever asked (the queue, r, a new context)
            self.pending = False
            self.live = False
            self.renders += 1
            render_queue().cancel(self)
        has_answer = bool(self.thread) and not self.live
        if self.context.form_factor != "chat" and not any(r.output or r.status == "ok" for r in self.thread):
            has_answer = False  # nothing came back: a canvas, voice or card preview would judge nothing
        self.bar.setVisible(has_answer)
        if not has_answer or self.raw:
            if self.raw:
                self.stop_voice()
            self.stack.setCurrentWidget(self.text_view)
            if not self.live:
                self.text_view.flush_markdown()
            return
        preview = self._preview(self.context.form_factor)
        if self._dirty or self.stack.currentWidget() is not preview:
            self._render(preview)
            self._dirty = False
        self.stack.setCurrentWidget(preview)

    def _preview(self, form_factor: str) -> QWidget:
        preview = self.previews.get(form_factor)
        if preview is None:
            if form_factor == "canvas":
                preview = CanvasPreview(self)
            elif form_factor == "voice":
                preview = VoicePreview(parent=self)
            elif form_factor == "notification":
                preview = NotificationPreviewWidget(self)
            else:
                preview = ChatPreview(self)
                preview.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.previews[form_factor] = preview
            self.stack.addWidget(preview)
        return preview

    def _render(self, preview: QWidget) -> None:
        reply = self.thread[-1].output if self.thread else ""
        if isinstance(preview, CanvasPreview):
            preview.show_document(canvas_document(thread_steps(self.thread)))
        elif isinstance(preview, VoicePreview):
            preview.show_reply(reply)
        elif isinstance(preview, NotificationPreviewWidget):
            preview.show_reply(reply, self.context.app_name, self.context.title)
        elif isinstance(preview, ChatPreview):
            preview.show_turns(thread_turns(self.thread), self.context.folder)
