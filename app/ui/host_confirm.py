"""Ask before a stored key goes to a host a shared prototype points a provider at."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.prototype import ModelTarget
from app.providers.events import ProviderError
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
        box.setInformativeText(
            f"Your stored {provider} key would be sent to {host}. Only say yes if you trust whoever shared "
            "this file and that server. If you say no, those cells fail with a message instead."
        )
        yes = box.addButton(f"Send key to {host}", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Don't send", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is yes

    return ask


def confirm_hosts(hub: ProviderHub, targets: Iterable[ModelTarget], ask: Asker) -> None:
    """For every target whose key would go to a new host, ask once; a yes is remembered for the session."""
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
        if ask(spec.name, spec.host, host):
            hub.allow_host(spec.id, host)
