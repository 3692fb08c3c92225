"""What a running matrix reports to its subscribers (the CLI progress bar, the GUI grid)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.prototype import ConversationEnd, Message, Run, ToolCall


@dataclass(frozen=True, order=True)
class Cell:
    """One slot of the matrix: a case run by a variant (profile x model), sample `sample`."""

    case: str
    profile: str
    model: str
    sample: int = 0
    baseline: bool = False
    """A prompted-baseline cell (evals): the profile's prompts were left out."""

    @property
    def variant(self) -> tuple[str, str]:
        return (self.profile, self.model)

    @property
    def key(self) -> str:
        base = f"{self.case}|{self.profile}|{self.model}|{self.sample}"
        return f"{base}|baseline" if self.baseline else base


@dataclass(frozen=True)
class CellQueued:
    """The cell waits for a slot. Sent again with a `reason` when a rate-limited cell is requeued."""

    cell: Cell
    reason: str = ""


@dataclass(frozen=True)
class CellStarted:
    """The request went out. After a requeue it is sent again: drop any text shown for the cell."""

    cell: Cell
    messages: tuple[Message, ...]
    cached: bool = False


@dataclass(frozen=True)
class CellDelta:
    cell: Cell
    text: str


@dataclass(frozen=True)
class CellToolCall:
    """Part of a tool call as it streams. `index` numbers the cell's calls across tool rounds;
    `call_id` and `name` are set once known; `arguments` is the next fragment of its JSON."""

    cell: Cell
    index: int
    call_id: str
    name: str
    arguments: str = ""


@dataclass(frozen=True)
class CellToolResult:
    """The app answered a tool call with its mock; the model continues in the next round."""

    cell: Cell
    index: int
    call: ToolCall


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
    """Where the whole run stands. `tokens` counts prompt + completion tokens of finished cells.

    `cost_usd` sums the known costs (None while no cell has a known cost); `cost_unknown`
    counts finished cells whose cost is unknown, so a display can say "at least".
    """

    done: int
    total: int
    tokens: int
    cost_usd: float | None
    failed: int = 0
    cancelled: int = 0
    cost_unknown: int = 0
    simulator_calls: int = 0
    """Requests to a simulated user's model (not cells: they answer no profile); their tokens and
    cost are counted apart, in `simulator_tokens` and `simulator_cost_usd`."""
    simulator_tokens: int = 0
    simulator_cost_usd: float | None = None
    simulator_cost_unknown: int = 0


@dataclass(frozen=True)
class UserTurnWritten:
    """A simulated user (or its script) wrote the next message of this cell's conversation; the
    continuation answering it is queued next. `source` is `simulated` or `scripted`."""

    cell: Cell
    text: str
    source: str
    turn: int


@dataclass(frozen=True)
class ConversationEnded:
    """A simulated conversation of this cell is over: `reason` says why (done, max_turns, a fault);
    `turns` counts the user messages the simulated user wrote."""

    cell: Cell
    reason: str
    turns: int
    failed: bool = False
    end: ConversationEnd | None = None
    """How it ended, as stored in `Run.conversation_end` (by: done, max_turns, script_end, ...)."""
    last_run: str | None = None
    """The id of the conversation's last run worth storing, which records the end; None if none is."""


EngineEvent = (
    CellQueued | CellStarted | CellDelta | CellToolCall | CellToolResult | CellFinished | CellFailed
    | CellCancelled | Progress | UserTurnWritten | ConversationEnded
)
