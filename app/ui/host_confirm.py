"""Ask before a stored key goes to a host a shared prototype points a provider at."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.prototype import ModelTarget
from app.providers.events import ProviderError
from app.ui.jobs import Job

if TYPE_CHECKING:  # the hub imports the openai SDK (~1 s); the window is built before anyone needs it
    from app.providers.hub import ProviderHub

Asker = Callable[[str, str, str], bool]
"""(provider name, its own host, the new host) -> may the key go there?"""


def dialog_asker(parent: QWidget | None) -> Asker:
    def ask(provider: str, own_host: str, host: str) -> bool:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Send your key to another server?",
            f"This prototype sends {provider} requests to {host}, not {own_host}.",
            parent=parent,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # the host comes from a shared file
        box.setInformativeText(
            f"Your stored {provider} key would be sent to {host}. Only say yes if you trust whoever shared "
            "this file and that server. If you say no, those cells fail with a message instead."
        )
        yes = box.addButton(f"Send key to {host}", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Don't send", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is yes

    return ask


Question = tuple[str, str, str, str]
"""(provider id, provider name, its own host, the new host)."""


def hosts_to_confirm(hub: ProviderHub, targets: Iterable[ModelTarget]) -> list[Question]:
    """The (provider, host) pairs a key would newly go to, once each. Looks keys up: run it off the GUI
    thread (a Secret Service keyring answers over D-Bus and can block)."""
    found: list[Question] = []
    asked: set[tuple[str, str]] = set()
    for target in targets:
        try:
            host = hub.needs_host_confirmation(target)
            spec = hub.registry.get(target.provider)
        except ProviderError:
            continue  # an unknown provider fails in its cells with a message of its own
        if host is None or (spec.id, host) in asked:
            continue
        asked.add((spec.id, host))
        found.append((spec.id, spec.name, spec.host, host))
    return found


def confirm_hosts(
    hub: ProviderHub | Callable[[], ProviderHub],
    targets: Iterable[ModelTarget],
    ask: Asker,
    then: Callable[[], None],
    owner: QObject | None = None,
) -> None:
    """For every target whose key would go to a new host, ask once (a yes is remembered for the
    session), then call `then` on the GUI thread. The key look-ups run in the background.

    `hub` may be a getter (`lambda: services.hub`): the first Run after start-up then builds the hub,
    which imports the openai SDK (1-4 s under load), in the background job too, not on the GUI thread."""
    chosen = list(targets)
    built: list[ProviderHub] = []

    def look_up() -> list[Question]:
        built.append(hub() if callable(hub) else hub)
        return hosts_to_confirm(built[0], chosen)

    def answer(found: list[Question]) -> None:
        for provider_id, name, own_host, host in found:
            if ask(name, own_host, host):
                built[0].allow_host(provider_id, host)
        then()

    job = Job(look_up).owned_by(owner)
    job.success(answer).failure(lambda _exc: then()).start()
