"""`protostudio import promptfoo CONFIG [--out FILE]`: a promptfoo config as a new prototype file.

Prints one `dropped:` line on stderr for each thing that has no Protostudio equivalent.
Exit codes: 0 written; 2 the config cannot be read, or the output exists (use --force).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.core.document import save_prototype


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "import", help="read a promptfoo config into a new prototype file",
        description="Import the common subset of another tool's eval config; everything dropped is listed.",
    )
    parser.add_argument("format", choices=["promptfoo"], help="the tool the config comes from")
    parser.add_argument("config", metavar="CONFIG", help="e.g. promptfooconfig.yaml")
    parser.add_argument("--out", metavar="FILE",
                        help="prototype to write (default: CONFIG's name with .protostudio.yaml, beside it)")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.commands.export import registry_endpoints
    from app.core.exports.promptfoo_import import ImportFailed, import_promptfoo

    config = Path(args.config)
    out = Path(args.out) if args.out else config.with_name(f"{config.stem}.protostudio.yaml")
    if out.exists() and not args.force:
        print(f"protostudio import: {out} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    try:
        result = import_promptfoo(config, registry_endpoints())
    except ImportFailed as exc:
        print(f"protostudio import: {exc}", file=sys.stderr)
        return 2
    for line in result.dropped:
        print(f"dropped: {line}", file=sys.stderr)
    try:
        save_prototype(result.prototype, out)
    except OSError as exc:
        print(f"protostudio import: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    proto = result.prototype
    print(f"wrote {out}: {len(proto.profiles)} profiles, {len(proto.models)} model targets, "
          f"{len(proto.cases)} cases; {len(result.dropped)} items dropped"
          + (" (listed on stderr)" if result.dropped else ""))
    return 0
