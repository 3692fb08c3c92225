"""Turn `openai` SDK and transport exceptions into user-facing failures that say what to do.

The SDK's own error strings can echo request data (and some servers echo part of the key), so every
message here is built from scratch; a server's own explanation is appended only after redaction.
"""

from __future__ import annotations

import email.utils
import math
import re
import socket
import time
from dataclasses import dataclass

import openai

from ._transport import httpx
from .events import ErrorKind, ProviderError, StreamFailed

_SECRETISH = re.compile(r"\b(?:sk|pk|rk|key|gsk|xai|AIza)[-_A-Za-z0-9*.]{6,}", re.IGNORECASE)
_CONTEXT_HINTS = ("context_length", "context length", "maximum context", "too many tokens", "context window",
                  "prompt is too long")
_DETAIL_LIMIT = 200
_IMAGE_HINTS = ("image", "vision", "multimodal", "mmproj")


@dataclass(frozen=True)
class Failure:
    """A classified error, before it becomes a StreamFailed or a ProviderError."""

    kind: ErrorKind
    message: str
    status: int | None = None
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        from .retry import retryable  # the one policy

        return retryable(self.kind)

    def as_event(self, partial: str = "", *, ttft_s: float | None = None,
                 latency_s: float | None = None) -> StreamFailed:
        return StreamFailed(self.kind, self.message, partial, self.status, self.retry_after,
                            ttft_s, latency_s)

    def as_error(self) -> ProviderError:
        return ProviderError(self.kind, self.message, status=self.status, retry_after=self.retry_after)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove known keys and anything that looks like a key; shorten to one line."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _SECRETISH.sub("[redacted]", text)
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 1] + "…"


def retry_after_of(headers: httpx.Headers | None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_detail(exc: openai.APIStatusError, secrets: tuple[str, ...]) -> str:
    body = exc.body
    if isinstance(body, list) and body:  # Gemini's endpoint wraps the error in a list
        body = body[0]
    message = ""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            message = str(inner.get("message") or "")
        elif isinstance(inner, str):
            message = inner
    return redact(message, secrets)


def _code_of(exc: openai.APIStatusError) -> str:
    code = getattr(exc, "code", None)
    return str(code or "")


_NAME_NOT_FOUND = ("name or service not known", "nodename nor servname", "getaddrinfo failed",
                   "no address associated", "temporary failure in name resolution", "name resolution")


def _why_unreachable(exc: BaseException, host: str) -> str:
    """What to check, from the cause the transport wraps: a host name that does not resolve is a
    typo or no network, a refused connection is a server that is not running. Never the raw text."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        text = str(cause).lower()
        if isinstance(cause, socket.gaierror) or any(hint in text for hint in _NAME_NOT_FOUND):
            return (f"the host name in {host} was not found. Check the endpoint URL for a typo, "
                    "and that this machine is online.")
        if isinstance(cause, ConnectionRefusedError) or "connection refused" in text:  # the host: said before
            return "nothing is listening there (connection refused). Is the server running?"
        cause = cause.__cause__ or cause.__context__
    return f"is the server running at {host}, and is the URL right?"


def classify(exc: BaseException, *, provider: str, host: str, model: str,
             secrets: tuple[str, ...] = ()) -> Failure:
    """Map an exception from a request (before or during streaming) to a Failure."""
    where = f"{provider} at {host}"
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return Failure(ErrorKind.TIMEOUT, f"{where} did not answer in time. Try again, or raise the timeout.")
    if isinstance(exc, openai.APIConnectionError | httpx.ConnectError | httpx.ConnectTimeout):
        return Failure(ErrorKind.UNREACHABLE, f"Could not reach {where}: {_why_unreachable(exc, host)}")
    if isinstance(exc, openai.APIStatusError):
        return _classify_status(exc, where=where, model=model, secrets=secrets)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.StreamError):
        return Failure(ErrorKind.CUT,
                       f"The connection to {where} closed mid-answer; the partial answer is kept.")
    if isinstance(exc, ValueError):  # JSON in the event stream that does not parse
        return Failure(ErrorKind.CUT, f"{where} sent a malformed stream; the partial answer is kept.")
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        detail = redact(str(getattr(exc, "message", "") or ""), secrets)
        lowered = detail.lower()
        if any(hint in lowered for hint in _CONTEXT_HINTS):
            return Failure(ErrorKind.CONTEXT_TOO_LONG,
                           f"The conversation is too long for {model}. Shorten it or pick a larger model.")
        said = f": {detail}" if detail else "."
        return Failure(ErrorKind.SERVER, f"{where} reported an error mid-answer{said}")
    return Failure(ErrorKind.UNKNOWN, f"Unexpected error talking to {where} ({type(exc).__name__}).")


def _classify_status(exc: openai.APIStatusError, *, where: str, model: str,
                     secrets: tuple[str, ...]) -> Failure:
    status = exc.status_code
    detail = _server_detail(exc, secrets)
    code = _code_of(exc)
    lowered = f"{code} {detail}".lower()
    suffix = f" (server said: {detail})" if detail else ""
    if status in (401, 403):
        verb = "rejected the key" if status == 401 else "refused access with this key"
        return Failure(ErrorKind.AUTH, f"{where} {verb}. Check the key in Settings > Providers "
                       "(or `protostudio providers set-key`).", status)
    if status == 404:
        return Failure(ErrorKind.NOT_FOUND, f"{where} has no model {model!r}. Pick one from its model list "
                       "(`protostudio providers models`).", status)
    if status == 429:
        wait = retry_after_of(exc.response.headers)
        when = " Wait a moment and try again."
        if wait is not None:  # whole seconds, rounded up: "in 0 s" for a 0.4 s wait read as "now"
            when = f" Try again in {max(1, math.ceil(wait))} s."
        return Failure(ErrorKind.RATE_LIMITED, f"{where} is rate limiting requests.{when}", status, wait)
    if status in (400, 413, 422) and any(hint in lowered for hint in _CONTEXT_HINTS):
        return Failure(ErrorKind.CONTEXT_TOO_LONG,
                       f"The conversation is too long for {model}. Shorten it or pick a larger model.",
                       status)
    if status >= 500:
        return Failure(ErrorKind.SERVER, f"{where} had a server error ({status}). Try again later.{suffix}",
                       status, retry_after_of(exc.response.headers))
    if status in (400, 415, 422) and any(hint in lowered for hint in _IMAGE_HINTS):
        return Failure(ErrorKind.BAD_REQUEST,
                       f"{where} did not accept the images: {model} may not take image input. "
                       f"Pick a model that does, or leave the images out of this case.{suffix}", status)
    if status == 408:
        return Failure(ErrorKind.TIMEOUT, f"{where} timed out the request. Try again.", status)
    return Failure(ErrorKind.BAD_REQUEST, f"{where} rejected the request ({status}).{suffix}", status)


def stream_options_rejected(exc: BaseException) -> bool:
    """True when an endpoint refused `stream_options` (older servers); the request is retried without it."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422):
        return False
    return "stream_options" in _server_detail(exc, ()).lower() or "include_usage" in str(exc.body).lower()
