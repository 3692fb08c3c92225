"""Custom OpenAI-compatible providers from Settings (add, edit, remove, key to the keyring), and a model
editor that offers the new provider's models when its provider changes."""

from __future__ import annotations

from pathlib import Path

from fakeserver import FakeOpenAI

TIMEOUT = 20_000


def _tab(qtbot, window):
    from app.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.services, window.document.proto, window)
    qtbot.addWidget(dialog)
    return dialog.providers


def _row(tab, provider_id: str) -> int | None:
    return next((r for r in range(tab.table.rowCount())
                 if tab.table.item(r, 0).text().endswith(f" · {provider_id}")), None)


def test_add_edit_remove_a_custom_provider(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI, memory_keyring
) -> None:
    window = make_window(proto_file)
    tab = _tab(qtbot, window)
    registry = window.services.registry
    tab.add_provider.click()
    form = tab.form
    form.provider_id.setText("gateway")
    form.name.setText("Team gateway")
    form.base_url.setText("not a url")
    form.key_env.setText("GATEWAY_API_KEY")
    form.key.setText("gw-secret-value")
    form.save()
    qtbot.waitUntil(lambda: "base URL" in form.problem.text(), timeout=TIMEOUT)
    assert form.isVisible() and form.name.text() == "Team gateway"  # nothing typed is lost
    form.base_url.setText(fake_server.base_url)
    form.save()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=TIMEOUT)
    spec = registry.get("gateway")
    assert (spec.name, spec.base_url, spec.key_env) == ("Team gateway", fake_server.base_url,
                                                        "GATEWAY_API_KEY")
    name = ("protostudio", f"gateway@http://127.0.0.1:{fake_server.port}")
    qtbot.waitUntil(lambda: memory_keyring.store.get(name) == "gw-secret-value", timeout=TIMEOUT)
    assert "gw-secret-value" not in registry.path.read_text(encoding="utf-8")
    row = _row(tab, "gateway")
    assert row is not None and tab.edit_provider.isEnabled()

    tab.table.selectRow(row)
    tab.edit_provider.click()
    tab.form.name.setText("Renamed gateway")
    assert tab.form.provider_id.isReadOnly()
    tab.form.save()
    qtbot.waitUntil(lambda: registry.get("gateway").name == "Renamed gateway", timeout=TIMEOUT)

    tab.table.selectRow(_row(tab, "gateway"))
    tab.confirm_remove = lambda _spec: True
    tab.remove_provider.click()
    qtbot.waitUntil(lambda: _row(tab, "gateway") is None, timeout=TIMEOUT)
    assert all(s.id != "gateway" for s in registry.all())
    tab.table.selectRow(_row(tab, "openai"))
    assert not tab.edit_provider.isEnabled() and not tab.remove_provider.isEnabled()


def test_switching_provider_offers_its_models(
    qtbot, make_window, proto_file: Path, fake_server: FakeOpenAI
) -> None:
    window = make_window(proto_file)
    window.services.registry.add("fakehost", fake_server.base_url, name="Fake host", needs_key=False)
    editor = window.editor.model_editor
    target = window.document.proto.model("fake")
    editor.set_target(target)
    assert target.model == "fake-model" and target.base_url
    editor.provider.setCurrentIndex(editor.provider.findData("openai"))
    assert target.provider == "openai" and target.model != "fake-model"
    assert target.model in [editor.model.itemText(i) for i in range(editor.model.count())]
    assert target.base_url is None  # the old override pointed at the old provider's server
    openai_model = target.model
    editor.provider.setCurrentIndex(editor.provider.findData("fakehost"))
    qtbot.waitUntil(lambda: editor.list_button.isEnabled() and target.model != openai_model, timeout=TIMEOUT)
    assert target.provider == "fakehost" and target.model in fake_server.models
