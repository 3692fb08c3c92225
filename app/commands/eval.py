"""Placeholder until its issue lands: the command exists so `--help` lists the whole contract."""

from __future__ import annotations

import argparse
import sys
from typing import Any

NAME = "eval"


def register(sub: Any) -> None:
    parser = sub.add_parser(NAME, help="(not available yet)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(f"protostudio {NAME}: not available in this build yet", file=sys.stderr)
    return 2
