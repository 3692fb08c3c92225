"""One cell's stream when its profile offers tools: call → mock result → continue, in bounded rounds.

Each round is one request through the hub (so each is cached, retried and cancelled like any other).
When the answer ends with tool calls, the app answers each with its mock (`PlannedCell.tool_results`:
the case's override, else the tool's `mock`) as a `tool` message naming the call's id, and sends the
conversation again. At most `MAX_TOOL_ROUNDS` (app/core/tools.py) rounds are answered; a model that
still calls tools after that is stopped with a notice, its last calls recorded unanswered.

The consumer sees one stream, as if from the hub: `Started` once, text and tool-call deltas as they
arrive (call indexes numbered across rounds), a `ToolAnswered` per mock sent, then one `Finished`
whose text joins the rounds' text and whose usage, latency and cost add up the rounds; or one
`StreamFailed` keeping the text so far. The exchange, the calls and any notice are written to the
cell's `Attempt`, so the stored `Run` carries them (messages end with the exchange).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any, Protocol

from app.core.messages import ROUND_SEPARATOR
from app.core.prototype import Message, ModelTarget, ToolCall
from app.core.tools import MAX_TOOL_ROUNDS, answer_call, exchange_messages, no_call_notice, offered_names
from app.engine.events import Cell, CellToolCall, CellToolResult
from app.engine.plan import PlannedCell
from app.engine.runs import Attempt
from app.providers.events import (
    Finished,
    Started,
    StreamEvent,
    StreamFailed,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)


class ToolHub(Protocol):
    def stream(self, target: ModelTarget, messages: list[Message], *, use_cache: bool = True,
               max_retries: int | None = None, sample: int = 0, base_dir: str | None = None) -> Any: ...


@dataclass(frozen=True)
class ToolAnswered:
    """The app answered call number `index` of the cell (across rounds) with its mock."""

    index: int
    call: ToolCall


LoopEvent = StreamEvent | ToolAnswered


def offers_tools(planned: PlannedCell) -> bool:
    return bool(planned.target.params.tools)


def cell_stream(hub: Any, planned: PlannedCell, attempt: Attempt) -> AsyncGenerator[LoopEvent, None]:
    """The stream the engine reads for a cell: through the tool loop when tools are offered, else the
    hub's own (with the image folder when a message carries images; hubs without images never get it)."""
    if offers_tools(planned):
        return run_tools(hub, planned, attempt)
    base = {"base_dir": planned.base_dir} if any(m.images for m in planned.messages) else {}
    stream: AsyncGenerator[LoopEvent, None] = hub.stream(
        planned.target, list(planned.messages), use_cache=planned.use_cache, max_retries=0,
        sample=planned.cell.sample, **base)
    return stream


def tool_event(cell: Cell, event: ToolCallDelta | ToolAnswered) -> CellToolCall | CellToolResult:
    """The engine event for a tool call delta or an answered call."""
    if isinstance(event, ToolAnswered):
        return CellToolResult(cell, event.index, event.call)
    return CellToolCall(cell, event.index, event.call_id, event.name, event.arguments)


async def run_tools(hub: ToolHub, planned: PlannedCell, attempt: Attempt, *, max_retries: int | None = 0,
                    max_rounds: int = MAX_TOOL_ROUNDS) -> AsyncGenerator[LoopEvent, None]:
    """The cell's stream with its tool rounds answered (see the module docstring)."""
    target = planned.target
    offered = offered_names(target.params)
    messages = list(planned.messages)
    texts: list[str] = []
    totals = _Totals()
    round_no = 0
    last: Finished | None = None
    while True:
        finished: Finished | None = None
        separate = any(texts)
        stream = hub.stream(target, list(messages), use_cache=planned.use_cache, max_retries=max_retries,
                            sample=planned.cell.sample, base_dir=planned.base_dir)
        async with aclosing(stream):
            async for event in stream:
                if isinstance(event, Started):
                    totals.cached = totals.cached and event.cached
                    if round_no == 0:
                        yield event
                elif isinstance(event, TextDelta):
                    if separate:
                        separate = False
                        yield TextDelta(ROUND_SEPARATOR)
                    yield event
                elif isinstance(event, ToolCallDelta):
                    yield replace(event, index=event.index + len(attempt.tool_calls))
                elif isinstance(event, UsageReport):
                    continue  # the round's Finished carries it; the totals are reported once
                elif isinstance(event, Finished):
                    finished = event
                else:
                    yield replace(event, partial=_joined(texts, event.partial))
                    return
        if finished is None:  # pragma: no cover - the hub always ends with Finished or StreamFailed
            yield StreamFailed(*_no_answer(), partial=_joined(texts, ""))
            return
        last = finished
        texts.append(finished.text)
        totals.add(finished)
        if not finished.tool_calls:
            break
        calls = [ToolCall(id=c.id, name=c.name, arguments=c.arguments) for c in finished.tool_calls]
        if round_no >= max_rounds:
            attempt.tool_calls.extend(calls)
            attempt.notice = (f"stopped after {max_rounds} tool rounds: the model kept calling tools, "
                              "and its last calls were not answered")
            break
        answered = [call.model_copy(update={"result": answer_call(planned.tool_results, call.name)})
                    for call in calls]
        for call in answered:
            attempt.tool_calls.append(call)
            yield ToolAnswered(len(attempt.tool_calls) - 1, call)
        messages.extend(exchange_messages(finished.text, answered))
        attempt.messages = list(messages)
        round_no += 1
        if target.params.tool_choice is not None:  # a forced call is asked for once, not every round
            params = target.params.model_copy(update={"tool_choice": None})
            target = target.model_copy(update={"params": params})
    if offered and not attempt.tool_calls:
        attempt.notice = no_call_notice(offered)
    yield totals.finished(ROUND_SEPARATOR.join(t for t in texts if t), last)


def _joined(texts: list[str], last: str) -> str:
    return ROUND_SEPARATOR.join(t for t in [*texts, last] if t)


def _no_answer() -> tuple[Any, str]:
    from app.providers.events import ErrorKind

    return ErrorKind.UNKNOWN, "the stream ended without an answer"


@dataclass
class _Totals:
    """Usage, latency and cost added up over the rounds; TTFT is the first round's."""

    rounds: int = 0
    ttft_s: float | None = None
    latency_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cost_known: bool = True
    cached: bool = True

    def add(self, event: Finished) -> None:
        if self.rounds == 0:
            self.ttft_s = event.ttft_s
        self.rounds += 1
        self.latency_s += event.latency_s
        self.prompt_tokens = _plus(self.prompt_tokens, event.prompt_tokens)
        self.completion_tokens = _plus(self.completion_tokens, event.completion_tokens)
        if event.cost_usd is None:
            self.cost_known = False
        else:
            self.cost_usd = (self.cost_usd or 0.0) + event.cost_usd
        self.cached = self.cached and event.cached

    def finished(self, text: str, last: Finished | None) -> Finished:
        return Finished(text, last.finish_reason if last else None, self.ttft_s, self.latency_s,
                        self.prompt_tokens, self.completion_tokens,
                        self.cost_usd if self.cost_known else None, self.cached,
                        last.tool_calls if last else ())


def _plus(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


__all__ = [
    "ROUND_SEPARATOR", "LoopEvent", "ToolAnswered", "cell_stream", "offers_tools", "run_tools", "tool_event",
]
