"""Turning what one attempt at a cell saw into a complete `Run`, whatever way it ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.prototype import Message, Run, RunStatus, ToolCall, Usage, new_id, utc_now
from app.engine.plan import PlannedCell
from app.providers.events import Finished, StreamFailed, UsageReport


@dataclass
class Attempt:
    """Timing, text and outcome of one request, measured on the engine's side as a fallback."""

    started: float | None = None
    first_token: float | None = None
    stopped: float | None = None
    parts: list[str] = field(default_factory=list)
    usage: UsageReport | None = None
    cached: bool = False
    final_text: str | None = None
    error: str | None = None
    finish_reason: str | None = None
    ttft_s: float | None = None
    latency_s: float | None = None
    cost_usd: float | None = None
    messages: list[Message] | None = None
    """The messages of the last request, when a tool loop added its exchange to the planned ones."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    notice: str | None = None

    @property
    def text(self) -> str:
        return self.final_text if self.final_text is not None else "".join(self.parts)

    def add_text(self, text: str, now: float) -> None:
        if self.first_token is None:
            self.first_token = now
        self.parts.append(text)

    def ended(self, now: float) -> Attempt:
        if self.stopped is None:
            self.stopped = now
        return self

    def finished(self, event: Finished) -> Attempt:
        self.final_text = event.text
        self.finish_reason = event.finish_reason
        self.ttft_s = event.ttft_s
        self.latency_s = event.latency_s
        self.cost_usd = event.cost_usd
        self.cached = self.cached or event.cached
        if event.prompt_tokens is not None or event.completion_tokens is not None:
            self.usage = UsageReport(event.prompt_tokens, event.completion_tokens)
        return self

    def failed(self, event: StreamFailed) -> Attempt:
        self.error = event.message
        if len(event.partial) > len(self.text):
            self.final_text = event.partial
        self.ttft_s = event.ttft_s
        self.latency_s = event.latency_s
        return self

    def measured_ttft_s(self) -> float | None:
        if self.ttft_s is not None:
            return self.ttft_s
        if self.started is None or self.first_token is None:
            return None
        return self.first_token - self.started

    def measured_latency_s(self) -> float | None:
        if self.latency_s is not None:
            return self.latency_s
        if self.started is None or self.stopped is None:
            return None
        return self.stopped - self.started


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 1)


def make_run(planned: PlannedCell, status: RunStatus, attempt: Attempt) -> Run:
    """A Run with everything needed to reproduce the output: target, params, messages as sent."""
    cell, target = planned.cell, planned.target
    usage = attempt.usage
    return Run(
        id=new_id("run"),
        created=utc_now(),
        profile=cell.profile,
        model=cell.model,
        case=cell.case,
        sample=cell.sample,
        parent=planned.parent,
        provider=target.provider,
        model_name=target.model,
        params=target.params.model_copy(),
        messages=list(planned.messages) if attempt.messages is None else list(attempt.messages),
        output=attempt.text,
        status=status,
        error=attempt.error,
        finish_reason=attempt.finish_reason,
        usage=Usage(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)
        if usage is not None else Usage(),
        ttft_ms=_ms(attempt.measured_ttft_s()),
        latency_ms=_ms(attempt.measured_latency_s()),
        cost_usd=attempt.cost_usd if status == "ok" else None,
        cached=attempt.cached,
        tool_calls=list(attempt.tool_calls),
        notice=attempt.notice,
        user_turn=planned.user_turn,
    )
