"""The one error type the prototype loader raises, with `file:line:col` problems."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, at a 1-based line and column."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class PrototypeError(Exception):
    """A prototype file could not be loaded. `problems` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("PrototypeError needs at least one problem")
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col))
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str, line: int, col: int, message: str) -> PrototypeError:
        return cls([Problem(file, line, col, message)])
