"""What a model stream reports, as typed events. Shared by the engine, the CLI and the UI."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    """Why a request failed, in categories a person can act on."""

    AUTH = "auth"  # bad or missing key
    NOT_FOUND = "model_not_found"
    RATE_LIMITED = "rate_limited"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    CONTEXT_TOO_LONG = "context_too_long"
    SERVER = "server_error"
    CUT = "stream_cut"  # the stream ended mid-answer; partial text is kept
    BAD_REQUEST = "bad_request"
    LOCAL_CRASH = "local_model_crashed"
    HOST_NOT_CONFIRMED = "host_not_confirmed"  # a stored key would go to a host it was not stored for
    CANCELLED = "cancelled"
    UNKNOWN_PROVIDER = "unknown_provider"  # no provider with that id
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Started:
    """The request was sent (or answered from cache)."""

    cached: bool = False


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """Part of a tool call as it streams: `index` orders the calls of one answer; `call_id` and `name`
    are the call's once known; `arguments` is this fragment of its arguments JSON."""

    index: int
    call_id: str
    name: str
    arguments: str = ""


@dataclass(frozen=True)
class UsageReport:
    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass(frozen=True)
class Finished:
    """The answer is complete. `text` is the whole answer."""

    text: str
    finish_reason: str | None
    ttft_s: float | None
    latency_s: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cached: bool = False
    tool_calls: tuple[StreamedCall, ...] = ()
    """The complete tool calls of this answer (finish reason `tool_calls`), in order."""


@dataclass(frozen=True)
class StreamedCall:
    """A complete tool call of an answer: id, function name, arguments JSON as the model wrote it."""

    id: str
    name: str
    arguments: str = ""


@dataclass(frozen=True)
class StreamFailed:
    """The request failed. `message` is user-facing and says what to do; `partial` keeps any text received."""

    kind: ErrorKind
    message: str
    partial: str = ""
    status: int | None = None
    retry_after: float | None = None
    ttft_s: float | None = None
    latency_s: float | None = None


StreamEvent = Started | TextDelta | ToolCallDelta | UsageReport | Finished | StreamFailed


class ProviderError(Exception):
    """A non-streaming provider call failed (model listing, embeddings, key checks)."""

    def __init__(self, kind: ErrorKind, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
