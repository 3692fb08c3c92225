"""Every command that reads a prototype, fed hostile files: exit 2 with FILE:LINE:COL (or a clear
path error), never a traceback, never a hang, never a changed file, never a left-over temp file.

Seeded, a few hundred cases, in-process (`app.cli.main`), so it stays fast. A file that happens to
be valid is only given to the commands that send nothing (`validate`, `status`, `report`,
`export`): `run` and `eval` get only files that `validate` refuses, so no case reaches a model.
`bench/fuzz_hostile.py` runs the same attacks with more cases.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import resource
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "prototypes" / "refusal-tone.yaml").read_bytes()
POSITION = re.compile(r":\d+:\d+: ")
READERS = ("validate", "status", "report", "export")
SENDERS = ("run", "eval")

pytestmark = pytest.mark.timeout(240)


def _argv(command: str, path: Path, out: Path) -> list[str]:
    if command == "export":
        return ["export", str(path), "--to", "promptfoo", "--out", str(out)]
    if command == "report":
        return ["report", str(path), "--json"]
    return [command, str(path)]


def cli(argv: list[str]) -> tuple[int, str, str]:
    """Run one command in this process: (exit code, stdout, stderr). An exception escaping is a
    traceback the user would see: it fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    files: dict[str, bytes | None] = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink() or not entry.is_file():
            files[entry.name] = None
        else:
            try:
                files[entry.name] = entry.read_bytes()
            except OSError:
                files[entry.name] = None
    return files


def attack(folder: Path, path: Path, *, commands: tuple[str, ...] | None = None) -> list[str]:
    """Give `path` to every command; return what went wrong (empty: all held)."""
    problems: list[str] = []
    out = folder.parent / f"{folder.name}-export.yaml"
    code, _, err = cli(["validate", str(path)])
    # `validate` also checks assertions (as `eval` does); a file failing only those still loads,
    # and the commands that never grade (status, report, export, run) may take it
    valid = code == 0 or _loads(path)
    chosen = commands or ((*READERS,) if valid else (*READERS, *SENDERS))
    chosen = tuple(c for c in chosen if not (valid and c in SENDERS))  # a loadable file would send
    for command in chosen:
        before = _snapshot(folder)
        try:
            code, said, err = cli(_argv(command, path, out))
            err = said + err if command == "validate" else err  # validate lists problems on stdout
        except Exception as exc:  # a traceback is what we are hunting
            problems.append(f"{command}: {type(exc).__name__}: {exc}")
            continue
        finally:
            if out.is_dir():
                shutil.rmtree(out)
            with contextlib.suppress(FileNotFoundError):
                out.unlink()
        if "Traceback" in err:
            problems.append(f"{command}: traceback on stderr: {err[-400:]}")
        if valid:
            if code not in (0, 1, 2) or (code == 2 and not err.strip()):  # 2: e.g. nothing to export
                problems.append(f"{command}: a valid file gave exit {code}: {err[-300:]}")
        elif code != 2:
            problems.append(f"{command}: exit {code}, not 2: {err[-300:]}")
        elif not (POSITION.search(err) or str(path) in err):
            problems.append(f"{command}: no FILE:LINE:COL and no path in: {err[-300:]}")
        after = _snapshot(folder)
        if after != before:
            changed = sorted(set(after) ^ set(before) | {k for k in after if before.get(k) != after[k]})
            problems.append(f"{command}: the folder changed: {changed}")
    return problems


def _loads(path: Path) -> bool:
    from app.core.document import load_prototype
    from app.core.errors import PrototypeError

    try:
        load_prototype(path)
    except (PrototypeError, OSError):
        return False
    return True


# -- the hostile files -------------------------------------------------------------------------------

def _truncations(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for at in sorted(rng.sample(range(len(SAMPLE)), 40)):
        yield f"truncated@{at}", SAMPLE[:at]


def _flips(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for n in range(40):
        data = bytearray(SAMPLE)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        yield f"flip#{n}", bytes(data)


def _encodings(_: random.Random) -> Iterator[tuple[str, bytes]]:
    text = SAMPLE.decode("utf-8")
    yield "utf-16-bom", text.encode("utf-16")
    yield "utf-16-le-no-bom", text.encode("utf-16-le")
    yield "utf-32", text.encode("utf-32")
    yield "utf-8-bom", b"\xef\xbb\xbf" + SAMPLE
    yield "invalid-utf8-in-value", SAMPLE.replace(b"name: ", b"name: \xff\xfe\xc3(", 1)
    yield "overlong-utf8", SAMPLE.replace(b"name: ", b"name: \xc0\xaf", 1)
    yield "lone-surrogate-utf8", SAMPLE.replace(b"name: ", b"name: \xed\xa0\x80", 1)
    yield "nul-bytes", SAMPLE.replace(b"\n", b"\n\x00", 3)
    yield "nul-in-value", SAMPLE.replace(b"name: ", b"name: a\x00b", 1)
    yield "escaped-nul", SAMPLE.replace(b"name: ", b'name: "a\\0b" #', 1)
    yield "crlf", SAMPLE.replace(b"\n", b"\r\n")
    yield "cr-only", SAMPLE.replace(b"\n", b"\r")
    yield "tabs-indent", SAMPLE.replace(b"\n  ", b"\n\t")
    yield "vertical-tab", SAMPLE.replace(b"\n", b"\n\x0b", 1)
    yield "bidi-and-nel", SAMPLE.replace(b"name: ", "name: \u202e\u0085\u2028x".encode(), 1)


def _shapes(_: random.Random) -> Iterator[tuple[str, bytes]]:
    yield "empty", b""
    yield "only-bom", b"\xef\xbb\xbf"
    yield "only-comment", b"# nothing\n"
    yield "a-scalar", b"hello\n"
    yield "a-list", b"- 1\n- 2\n"
    yield "null-doc", b"~\n"
    yield "two-docs", SAMPLE + b"---\n" + SAMPLE
    yield "huge-line", b"name: " + b"x" * 3_000_000 + b"\nprofiles: []\n"
    yield "huge-key", b"x" * 200_000 + b": 1\n"
    yield "deep-flow", b"name: " + b"[" * 50_000 + b"\n"
    yield "deep-flow-closed", b"name: " + b"[" * 5_000 + b"]" * 5_000 + b"\n"
    yield "deep-map", b"name: " + b"{a: " * 5_000 + b"}" * 5_000 + b"\n"
    yield "deep-block", "".join(" " * i + "- \n" for i in range(0, 2000, 1)).encode()
    yield "long-int", b"name: x\nprotostudio: " + b"9" * 100_000 + b"\n"
    yield "float-bomb", b"name: x\nprotostudio: 1e99999\n"
    laughs = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    yield "billion-laughs", ("\n".join(laughs) + "\nname: *a9\n").encode()
    yield "alias-cycle", b"name: &a [*a]\n"
    yield "merge-key-bomb", b"base: &b {id: p}\nprofiles:\n  - <<: [*b, *b, *b]\n"
    yield "undefined-alias", b"name: *nope\n"
    yield "python-object", b"name: !!python/object/apply:os.system ['echo pwned']\n"
    yield "python-name", b"name: !!python/name:os.system\n"
    yield "custom-tag", b"name: !secret x\n"
    yield "binary-tag", b"name: !!binary aGk=\n"
    yield "set-tag", b"name: !!set {a, b}\n"
    yield "directive", b"%YAML 9.9\n---\nname: x\n"
    yield "dup-top-key", SAMPLE + b"name: again\n"
    yield "complex-key", b"? [a, b]\n: 1\nname: x\n"


def _wrong_types(_: random.Random) -> Iterator[tuple[str, bytes]]:
    text = SAMPLE.decode("utf-8")
    yield "name-is-list", text.replace("name: ", "name: [1, 2] #", 1).encode()
    yield "profiles-is-map", re.sub(r"(?m)^profiles:", "profiles: {a: 1}\nold_profiles:", text,
                                    count=1).encode()
    yield "id-is-int", re.sub(r"(?m)^(\s*- id: )(\S+)", r"\g<1>12", text, count=1).encode()
    yield "id-is-null", re.sub(r"(?m)^(\s*- id: )(\S+)", r"\g<1>null", text, count=1).encode()
    yield "id-is-map", re.sub(r"(?m)^(\s*- id: )(\S+)", r"\g<1>{a: b}", text, count=1).encode()
    yield "id-newline", re.sub(r"(?m)^(\s*- id: )(\S+)", r'\g<1>"a\\nb"', text, count=1).encode()
    yield "id-dotdot", re.sub(r"(?m)^(\s*- id: )(\S+)", r"\g<1>../../etc/passwd", text, count=1).encode()
    yield "id-unicode", re.sub(r"(?m)^(\s*- id: )(\S+)", "\\g<1>caf\u00e9-\u202e-\U0001f600", text,
                               count=1).encode()
    yield "id-slash", re.sub(r"(?m)^(\s*- id: )(\S+)", r"\g<1>a/b", text, count=1).encode()
    yield "id-empty", re.sub(r"(?m)^(\s*- id: )(\S+)", r"\g<1>''", text, count=1).encode()
    yield "id-huge", re.sub(r"(?m)^(\s*- id: )(\S+)", "\\g<1>" + "a" * 100_000, text, count=1).encode()
    yield "version-string", b"protostudio: '3'\n" + SAMPLE
    yield "version-future", b"protostudio: 99\n" + SAMPLE
    yield "version-negative", b"protostudio: -1\n" + SAMPLE
    yield "version-bool", b"protostudio: true\n" + SAMPLE
    yield "key-int", SAMPLE + b"1: x\n"
    yield "key-null", SAMPLE + b"null: x\n"
    yield "key-bool", SAMPLE + b"true: x\n"
    yield "key-list", SAMPLE + b"[a]: x\n"


def _images(folder: Path) -> Iterator[tuple[str, bytes]]:
    base = SAMPLE.decode("utf-8")
    # the first user turn gets an image reference
    def with_image(ref: str) -> bytes:
        return re.sub(r"(?m)^(\s*)- (role: user\n)", lambda m: f"{m.group(1)}- images: [{ref!r}]\n"
                      f"{m.group(1)}  {m.group(2)}", base, count=1).encode()

    (folder.parent / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    yield "image-outside", with_image("../outside.png")
    yield "image-absolute", with_image("/etc/passwd")
    yield "image-dev-zero", with_image("/dev/zero")
    yield "image-fifo", with_image("pipe.png")
    yield "image-symlink-out", with_image("link.png")
    yield "image-folder", with_image("sub")
    yield "image-missing", with_image("nope.png")
    yield "image-url", with_image("http://127.0.0.1:9/x.png")
    yield "image-file-url", with_image("file:///etc/passwd")
    yield "image-nul", with_image("a\0b.png")


CASES: dict[str, Callable[[random.Random], Iterator[tuple[str, bytes]]]] = {
    "truncations": _truncations, "flips": _flips, "encodings": _encodings, "shapes": _shapes,
    "wrong_types": _wrong_types,
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    return work


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@pytest.mark.parametrize("kind", list(CASES))
def test_hostile_files(kind: str, folder: Path) -> None:
    rng = random.Random(f"hostile-{kind}")
    problems: list[str] = []
    path = folder / "proto.yaml"
    for name, data in CASES[kind](rng):
        path.write_bytes(data)
        problems += [f"{name}: {p}" for p in attack(folder, path)]
        assert path.read_bytes() == data, name
    assert _peak_mb() < 1500, "memory was not bounded"
    assert not problems, "\n".join(problems)


def test_hostile_image_references(folder: Path) -> None:
    os.mkfifo(folder / "pipe.png")
    (folder / "link.png").symlink_to("/etc/passwd")
    (folder / "sub").mkdir()
    problems: list[str] = []
    path = folder / "proto.yaml"
    for name, data in _images(folder):
        path.write_bytes(data)
        problems += [f"{name}: {p}" for p in attack(folder, path)]
    assert not problems, "\n".join(problems)


# -- hostile paths: what FILE is ---------------------------------------------------------------------

def _path_cases(folder: Path) -> Iterator[tuple[str, Path]]:
    real = folder / "real.yaml"
    real.write_bytes(SAMPLE)
    (folder / "dir.yaml").mkdir()
    yield "a-folder", folder / "dir.yaml"
    os.mkfifo(folder / "fifo.yaml")
    yield "a-fifo", folder / "fifo.yaml"
    yield "dev-zero", Path("/dev/zero")
    yield "dev-null", Path("/dev/null")
    yield "missing", folder / "missing.yaml"
    (folder / "dangling.yaml").symlink_to(folder / "nowhere.yaml")
    yield "dangling-symlink", folder / "dangling.yaml"
    (folder / "loop.yaml").symlink_to(folder / "loop.yaml")
    yield "symlink-loop", folder / "loop.yaml"
    (folder / "fifo-link.yaml").symlink_to(folder / "fifo.yaml")
    yield "symlink-to-fifo", folder / "fifo-link.yaml"
    yield "file-as-folder", real / "x.yaml"
    yield "newline-in-name", folder / "a\nb.yaml"


def test_hostile_paths(folder: Path) -> None:
    problems: list[str] = []
    for name, path in _path_cases(folder):
        problems += [f"{name}: {p}" for p in attack(folder, path, commands=(*READERS, *SENDERS))]
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_an_unreadable_file(folder: Path) -> None:
    path = folder / "proto.yaml"
    path.write_bytes(SAMPLE)
    path.chmod(0)
    try:
        assert not attack(folder, path, commands=(*READERS, *SENDERS))
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


# -- merge and import take the same hostile files ----------------------------------------------------

def _other_commands(folder: Path, path: Path) -> list[str]:
    """`merge` (both ways, and with -o) and `import promptfoo`: exit 2 naming the file, nothing written."""
    good = folder.parent / "good.yaml"
    good.write_bytes(SAMPLE)
    out = folder.parent / "out.yaml"
    problems: list[str] = []
    for argv in (["merge", str(path), str(good)], ["merge", str(good), str(path), str(good)],
                 ["merge", str(good), str(path), "-o", str(out)],
                 ["import", "promptfoo", str(path), "--out", str(out)]):
        before = _snapshot(folder)
        try:
            code, _, err = cli(argv)
        except Exception as exc:  # a traceback is what we are hunting
            problems.append(f"{argv[0]}: {type(exc).__name__}: {exc}")
            continue
        if "Traceback" in err or code not in (0, 1, 2):
            problems.append(f"{argv[0]}: exit {code}: {err[-300:]}")
        elif code == 2 and not (POSITION.search(err) or str(path) in err):
            problems.append(f"{argv[0]}: no FILE:LINE:COL and no path in: {err[-300:]}")
        if code == 2 and out.exists():
            problems.append(f"{argv[0]}: wrote {out.name} although it failed")
        if code == 2 and _snapshot(folder) != before:  # (a merge that worked writes OURS or A)
            problems.append(f"{argv[0]}: the folder changed")
        out.unlink(missing_ok=True)
    return problems


@pytest.mark.parametrize("kind", ["truncations", "encodings", "shapes", "wrong_types"])
def test_merge_and_import_take_hostile_files(kind: str, folder: Path) -> None:
    problems: list[str] = []
    path = folder / "proto.yaml"
    for name, data in CASES[kind](random.Random(f"other-{kind}")):
        path.write_bytes(data)
        problems += [f"{name}: {p}" for p in _other_commands(folder, path)]
    assert not problems, "\n".join(problems)


def test_merge_and_import_refuse_special_files(folder: Path) -> None:
    problems: list[str] = []
    for name, path in _path_cases(folder):  # before the fix, import hung on the FIFO, ate GBs on /dev/zero
        problems += [f"{name}: {p}" for p in _other_commands(folder, path)]
    assert not problems, "\n".join(problems)


def test_a_promptfoo_config_referencing_special_files_is_not_blocked(folder: Path) -> None:
    os.mkfifo(folder / "prompt.txt")
    os.mkfifo(folder / "tests.yaml")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "vars").mkdir()
    config = folder / "promptfooconfig.yaml"
    config.write_text("prompts:\n  - file://prompt.txt\n  - 'Say {{topic}}'\n"
                      "providers: [openai:gpt-4o-mini]\n"
                      "tests:\n  - file://tests.yaml\n  - vars: {topic: file://zero.txt}\n"
                      "  - vars: {topic: file://vars}\n", encoding="utf-8")
    out = folder.parent / "imported.yaml"
    code, _, err = cli(["import", "promptfoo", str(config), "--out", str(out)])
    assert code == 0, err
    assert "prompt.txt is a pipe (FIFO), not a regular file" in err
    assert "tests.yaml is a pipe (FIFO), not a regular file" in err
    assert "zero.txt is outside the config's folder" in err


def test_import_reports_yaml_problems_with_a_position(folder: Path) -> None:
    config = folder / "promptfooconfig.yaml"
    config.write_text("prompts:\n  - hi\ntests: " + "[" * 5000 + "\n", encoding="utf-8")
    code, _, err = cli(["import", "promptfoo", str(config), "--out", str(folder.parent / "o.yaml")])
    assert code == 2 and f"{config}:3:" in err and "nested more than 100 levels deep" in err, err
