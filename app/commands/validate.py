"""`protostudio validate FILE...`: exit 0 when every file loads and every assertion can be graded.

Otherwise print one `FILE:LINE:COL: message` line per problem and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.core.casegen.validation import check_probes
from app.core.document import load_prototype
from app.core.errors import PrototypeError
from app.core.evals.validation import check_prototype_assertions
from app.core.images import check_prototype_images


def register(sub: Any) -> None:
    parser = sub.add_parser("validate", help="check prototype files; print FILE:LINE:COL for each problem")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    failed = False
    for name in args.files:
        try:
            proto = load_prototype(name)
        except PrototypeError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stdout)
            continue
        text = Path(name).read_text(encoding="utf-8")
        # an assertion such as `type: contians`, a probe of a renamed rule or a missing image loads
        # fine but is wrong
        for check in (check_prototype_assertions, check_probes, check_prototype_images):
            try:
                check(proto, name, text)
            except PrototypeError as exc:
                failed = True
                for problem in exc.problems:
                    print(problem, file=sys.stdout)
    return 2 if failed else 0
