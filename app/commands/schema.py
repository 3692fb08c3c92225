"""`protostudio schema`: print the JSON Schema of the prototype format."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.core.schema import schema_json


def register(sub: Any) -> None:
    parser = sub.add_parser("schema", help="print the JSON Schema of prototype files")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(schema_json())
    return 0
