"""`protostudio validate FILE...`: exit 0 when every file loads and every assertion can be graded.

Otherwise print one `FILE:LINE:COL: message` line per problem and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.core.casegen.validation import probe_problems
from app.core.document import load_prototype
from app.core.errors import PrototypeError
from app.core.evals.validation import assertion_problems
from app.core.images import image_problems
from app.core.locate import locate
from app.core.simulation import simulation_problems


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
        # an assertion such as `type: contians`, a probe of a renamed rule or a missing image loads
        # fine but is wrong; the file is parsed for positions once, only when something was found
        found = [*assertion_problems(proto), *simulation_problems(proto), *probe_problems(proto),
                 *image_problems(proto, proto.base_dir)]
        if found:
            failed = True
            for problem in locate(found, name, Path(name).read_text(encoding="utf-8")):
                print(problem, file=sys.stdout)
    return 2 if failed else 0
