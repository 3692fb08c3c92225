"""What a running matrix reports to its subscribers (the CLI progress bar, the GUI grid)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.prototype import Message, Run


@dataclass(frozen=True, order=True)
class Cell:
    """One slot of the matrix: a case run by a variant (profile x model), sample `sample`."""

    case: str
    profile: str
    model: str
    sample: int = 0

    @property
    def variant(self) -> tuple[str, str]:
        return (self.profile, self.model)

    @property
    def key(self) -> str:
        return f"{self.case}|{self.profile}|{self.model}|{self.sample}"


@dataclass(frozen=True)
class CellQueued:
    cell: Cell


@dataclass(frozen=True)
class CellStarted:
    cell: Cell
    messages: tuple[Message, ...]
    cached: bool = False


@dataclass(frozen=True)
class CellDelta:
    cell: Cell
    text: str


@dataclass(frozen=True)
class CellFinished:
    """The cell completed; `run` is ready to append to the prototype."""

    cell: Cell
    run: Run


@dataclass(frozen=True)
class CellFailed:
    """The cell failed; `run` carries the error and any partial text."""

    cell: Cell
    run: Run


@dataclass(frozen=True)
class CellCancelled:
    """The cell was cancelled; `run` keeps the partial text, status `cancelled`."""

    cell: Cell
    run: Run


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    tokens: int
    cost_usd: float | None


EngineEvent = CellQueued | CellStarted | CellDelta | CellFinished | CellFailed | CellCancelled | Progress
