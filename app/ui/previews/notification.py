"""The notification preview: a phone-style card cut where the platform cuts it, and what is lost.

The numbers and the cutting are the core's (`notification_preview`, `PLATFORMS`, with sources),
so the card and the `fits-notification` assertion agree. The card shows the app's icon and name,
the title (the profile's name) and the body (the reply); the hidden tail is shown greyed out
below the card. The platform picker is shared by every card, so columns compare on one phone.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from app.core.formfactors import DEFAULT_PLATFORM, PLATFORMS, NotificationPreview, notification_preview
from app.ui.elided_label import elided_label
from app.ui.resources import icon

CARD_STYLE = (
    "QFrame#notification-card { background: #f2f2f7; border: 1px solid #d1d1d6; border-radius: 12px; }"
    " QFrame#notification-card QLabel { color: #1c1c1e; background: transparent; }"
)


class PlatformChoice(QObject):
    """The phone every notification card shows (one choice for the whole grid)."""

    sig_changed = Signal(str)
    """The platform id changed."""

    def __init__(self) -> None:
        super().__init__()
        self.platform = DEFAULT_PLATFORM

    def set(self, platform: str) -> None:
        if platform in PLATFORMS and platform != self.platform:
            self.platform = platform
            self.sig_changed.emit(platform)


_choice: PlatformChoice | None = None


def platform_choice() -> PlatformChoice:
    global _choice
    if _choice is None:
        _choice = PlatformChoice()
    return _choice


def _label(name: str, style: str = "", wrap: bool = False) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)  # model text: never HTML
    label.setWordWrap(wrap)
    if style:
        label.setStyleSheet(style)
    return label


PICKER_TIP = "Which phone's card to show (every notification cell follows this choice)"


class ElidingComboBox(QComboBox):
    """A combo box whose shown choice ends in "…" when the box is narrow (Qt's styles cut it mid-word);
    the open list shows every name whole."""

    def shown_text(self) -> str:
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        room = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        ).width()
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideRight, room - 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class NotificationPreviewWidget(QWidget):
    """Platform picker, the card, the cut tail and the limits used."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview-notification")
        self.reply = ""
        self.title_text = ""
        self.preview: NotificationPreview | None = None
        self.picker = ElidingComboBox(self)
        self.picker.setObjectName("notification-platform")
        self.picker.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # as narrow as a cell at 4+ columns: the shown name ends in "…", the list still shows it whole
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(6)
        for limits in PLATFORMS.values():
            self.picker.addItem(limits.label, limits.platform)
        self.picker.setToolTip(PICKER_TIP)
        self.choice = platform_choice()
        self.picker.setCurrentIndex(self.picker.findData(self.choice.platform))
        self.picker.currentIndexChanged.connect(lambda _i: self.choice.set(self.picker.currentData()))
        self.choice.sig_changed.connect(self._on_platform)

        self.card = QFrame(self)
        self.card.setObjectName("notification-card")
        self.card.setStyleSheet(CARD_STYLE)
        app_icon = QLabel()
        app_icon.setPixmap(icon("app").pixmap(16, 16))
        self.app_name = elided_label("notification-app", "font-size: 8pt; color: #6e6e73;")
        when = _label("notification-when", "font-size: 8pt; color: #6e6e73;")
        when.setText("now")
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(app_icon)
        head.addWidget(self.app_name, 1)
        head.addWidget(when)
        self.title = elided_label("notification-title", "font-weight: bold;")  # a cell: narrower than a phone
        self.body = _label("notification-body", wrap=True)
        card_layout = QVBoxLayout(self.card)
        card_layout.setContentsMargins(10, 8, 10, 8)
        card_layout.setSpacing(2)
        card_layout.addLayout(head)
        card_layout.addWidget(self.title)
        card_layout.addWidget(self.body)

        self.cut = _label("notification-cut", "color: #9aa0a6;", wrap=True)
        self.limits = _label("notification-limits", "color: palette(mid); font-size: 8pt;", wrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.picker)
        layout.addWidget(self.card)
        layout.addWidget(self.cut)
        layout.addStretch(1)
        layout.addWidget(self.limits)

    def show_reply(self, reply: str, app_name: str, title: str) -> None:
        self.reply, self.title_text = reply, title
        self.app_name.setText(app_name.upper())
        self._render()

    def _on_platform(self, platform: str) -> None:
        index = self.picker.findData(platform)
        if index != self.picker.currentIndex():
            self.picker.setCurrentIndex(index)
        self._render()

    def _render(self) -> None:
        platform = self.choice.platform
        limits = PLATFORMS[platform]
        preview = self.preview = notification_preview(self.reply, platform, self.title_text)
        self.title.setText(preview.shown_title)
        self.title.setVisible(bool(preview.shown_title))
        self.body.setText(preview.shown_body)
        cut = " ".join(part for part in (preview.title_cut and f"Title: …{preview.title_cut}",
                                         preview.body_cut and f"…{preview.body_cut}") if part)
        lost = len(preview.title_cut) + len(preview.body_cut)
        self.cut.setText(f"Cut off ({lost} characters): {cut}" if preview.truncated
                         else "Nothing is cut off: the whole reply fits the card.")
        self.limits.setText(
            f"{limits.label}: title {limits.title_chars}, body {limits.body_chars} characters"
        )
        self.limits.setToolTip(limits.sources)
        self.picker.setToolTip(f"{limits.label}. {PICKER_TIP}")  # the whole name: a narrow cell cuts it
