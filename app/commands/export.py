"""`protostudio export FILE --to promptfoo|openai-evals|dpo --out DIR`: the prototype in another format.

Exit codes: 0 written; 2 the file cannot be read or exported (the message says why).
What did not map exactly is printed on stderr, one `note:` line each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.core.atomic import remove_stale_temps, write_atomic
from app.core.document import load_prototype
from app.core.errors import PrototypeError
from app.core.exports import Endpoint, ExportError, ExportResult
from app.core.prototype import Case, Message, Profile, Prototype

FORMATS = ("promptfoo", "openai-evals", "dpo")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "export", help="write the prototype as a promptfoo config, openai/evals registry, or DPO pairs",
        description="Export a prototype to the formats other eval tools read. Keys are never written.",
    )
    parser.add_argument("file", metavar="FILE", help="prototype YAML file")
    parser.add_argument("--to", required=True, choices=FORMATS, help="output format")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="output folder (for dpo, a .jsonl file or a folder)")
    parser.add_argument("--base-url", action="append", default=[], metavar="TARGET=URL",
                        help="promptfoo: point a model target at this OpenAI-compatible URL (repeatable)")
    parser.add_argument("--judge", metavar="TARGET",
                        help="promptfoo: model target grading llm-rubric checks that name no judge")
    parser.add_argument("--embedder", metavar="TARGET",
                        help="promptfoo: model target whose /embeddings endpoint grades `similar`")
    parser.add_argument("--profile", action="append", default=[], metavar="P",
                        help="openai-evals: export only these profiles (repeatable; default all)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        proto = load_prototype(args.file)
    except PrototypeError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        result, target = _export(proto, args)
    except ExportError as exc:
        print(f"protostudio export: {exc}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        written = write_files(result, target)
    except OSError as exc:
        print(f"protostudio export: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if result.summary:
        print(result.summary)
    return 0


def _export(proto: Prototype, args: argparse.Namespace) -> tuple[ExportResult, Path]:
    out = Path(args.out)
    source = Path(args.file).name
    if args.to == "promptfoo":
        from app.core.exports.promptfoo import export_promptfoo

        return export_promptfoo(proto, engine_messages, registry_endpoints(), source=source,
                                base_urls=_base_urls(args.base_url), judge=args.judge,
                                embedder=args.embedder), out
    if args.to == "openai-evals":
        from app.core.exports.openai_evals import export_openai_evals

        return export_openai_evals(proto, engine_messages, profiles=args.profile or None), out
    from app.core.exports.dpo import DPO_FILE, export_dpo

    result = export_dpo(proto, engine_messages)
    if out.suffix.lower() == ".jsonl":
        result.files = {out.name: result.files[DPO_FILE]}
        return result, out.parent
    return result, out


def write_files(result: ExportResult, folder: Path) -> list[Path]:
    """Write every file of an export under `folder`, atomically; the paths written. (CLI and app.)"""
    written: list[Path] = []
    for relative, text in result.files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)  # an export killed earlier left its temp file; no one else will
        write_atomic(path, text.encode("utf-8"))
        written.append(path)
    return written


def _base_urls(items: list[str]) -> dict[str, str]:
    urls: dict[str, str] = {}
    for item in items:
        target, sep, url = item.partition("=")
        if not sep or not target or not url.startswith(("http://", "https://")):
            raise ExportError(f"--base-url wants TARGET=http(s)://host/v1, not {item!r}")
        urls[target] = url
    return urls


def engine_messages(profile: Profile, case: Case) -> list[Message]:
    """The engine's own message builder, so exports hold exactly what a run sends."""
    from app.core.messages import build_messages

    return build_messages(None, profile, case)


def registry_endpoints() -> dict[str, Endpoint]:
    """Provider id -> endpoint, from the provider registry (built-ins only if the custom file is broken)."""
    from app.providers.registry import BUILTINS, Registry, RegistryError

    try:
        specs = Registry().all()
    except RegistryError as exc:
        print(f"note: {exc}", file=sys.stderr)
        specs = list(BUILTINS)
    return {s.id: Endpoint(s.base_url, s.key_env, s.needs_key) for s in specs}
