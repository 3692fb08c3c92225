"""File › Import (promptfoo) and File › Export (promptfoo, openai/evals registry, DPO pairs).

The reading, exporting and writing are the CLI's own functions (`protostudio import` /
`protostudio export`), run as background `Job`s; this module only asks for paths and reports.
An imported config opens as a new, unsaved prototype, with what was dropped in the message bar.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from app.commands.export import write_files
from app.core.exports import ExportResult
from app.core.exports.promptfoo_import import ImportResult
from app.core.prototype import Prototype
from app.ui.document_model import Document
from app.ui.file_ops import FileOps
from app.ui.jobs import Job
from app.ui.message_bar import MessageBar

EXPORTS = {
    "promptfoo": "promptfoo config…",
    "openai-evals": "openai/evals registry…",
    "dpo": "DPO pairs (JSONL)…",
}
"""Export format -> its File › Export menu entry."""


def export_files(proto: Prototype, fmt: str, source: str) -> ExportResult:
    """The files of one export, built exactly as `protostudio export --to FMT` builds them."""
    from app.commands.export import engine_messages, registry_endpoints

    if fmt == "promptfoo":
        from app.core.exports.promptfoo import export_promptfoo

        return export_promptfoo(proto, engine_messages, registry_endpoints(), source=source)
    if fmt == "openai-evals":
        from app.core.exports.openai_evals import export_openai_evals

        return export_openai_evals(proto, engine_messages)
    from app.core.exports.dpo import export_dpo

    return export_dpo(proto, engine_messages)


def import_config(path: Path) -> ImportResult:
    from app.commands.export import registry_endpoints
    from app.core.exports.promptfoo_import import import_promptfoo

    return import_promptfoo(path, registry_endpoints())


class InteropOps(QObject):
    """Import and export actions for the File menu. Nothing here blocks the GUI thread."""

    def __init__(self, window: QWidget, document: Document, file_ops: FileOps, bar: MessageBar) -> None:
        super().__init__(window)
        self.window = window
        self.document = document
        self.file_ops = file_ops
        self.bar = bar

    # -- import ------------------------------------------------------------------------------------

    def import_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self.window, "Import a promptfoo config", "", "promptfoo config (*.yaml *.yml *.json)"
        )
        if name:
            self.import_path(Path(name))

    def import_path(self, path: Path) -> None:
        Job(lambda: import_config(path)).success(lambda result: self._imported(result, path)).failure(
            lambda exc: self.bar.show_message(f"Could not import {path.name}: {exc}", "error")
        ).start()

    def _imported(self, result: ImportResult, path: Path) -> None:
        if not self.file_ops.confirm_discard():
            return
        self.document.replace(result.prototype, None)
        self.file_ops.sig_opened.emit()
        proto = result.prototype
        text = (
            f"Imported {path.name}: {len(proto.profiles)} profiles, {len(proto.models)} model targets, "
            f"{len(proto.cases)} cases. Save it to keep it."
        )
        if result.dropped:
            shown = "\n".join(result.dropped[:8])
            more = f"\n… and {len(result.dropped) - 8} more" if len(result.dropped) > 8 else ""
            text += f"\n{len(result.dropped)} items dropped or kept disabled:\n{shown}{more}"
        self.bar.show_message(text, "info")

    # -- export ------------------------------------------------------------------------------------

    def export_dialog(self, fmt: str) -> None:
        start = str(self.document.path.parent) if self.document.path else ""
        folder = QFileDialog.getExistingDirectory(
            self.window, f"Export {EXPORTS[fmt].rstrip('…')} into", start
        )
        if folder:
            self.export_to(fmt, Path(folder))

    def export_to(self, fmt: str, folder: Path) -> None:
        proto = self.document.proto.model_copy(deep=True)  # a snapshot; the export runs off the GUI thread
        source = self.document.path.name if self.document.path else proto.name

        def work() -> tuple[ExportResult, list[Path]]:
            result = export_files(proto, fmt, source)
            return result, write_files(result, folder)

        Job(work).success(self._exported).failure(
            lambda exc: self.bar.show_message(f"Export failed: {exc}", "error")
        ).start()

    def _exported(self, outcome: tuple[ExportResult, list[Path]]) -> None:
        result, written = outcome
        text = "Wrote " + ", ".join(str(p) for p in written)
        if result.summary:
            text += f"\n{result.summary}"
        if result.notes:
            text += "\n" + "\n".join(result.notes[:6])
        self.bar.show_message(text, "info")
