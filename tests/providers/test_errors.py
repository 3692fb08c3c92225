"""Error mapping details: redaction, Retry-After forms, a stall mid-answer, a dropped connection."""

from __future__ import annotations

import email.utils
import time

import openai
from fakeserver import FakeOpenAI, Reply
from provider_kit import stream_events, target

from app.providers._transport import httpx
from app.providers.errors import classify, redact, retry_after_of
from app.providers.events import ErrorKind, Finished, StreamFailed
from app.providers.hub import ProviderHub


def test_redact_removes_known_and_key_shaped_secrets() -> None:
    text = "Incorrect API key provided: sk-" "proj-abc123456789xyz. Also my-secret-value leaked."
    cleaned = redact(text, ("my-secret-value",))
    assert "sk-proj" not in cleaned and "my-secret-value" not in cleaned and cleaned.count("[redacted]") == 2
    assert len(redact("word " * 200)) <= 200


def test_retry_after_accepts_seconds_milliseconds_and_dates() -> None:
    assert retry_after_of(httpx.Headers({"retry-after": "7"})) == 7
    assert retry_after_of(httpx.Headers({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (retry_after_of(httpx.Headers({"retry-after": future})) or 0) <= 30
    assert retry_after_of(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after_of(httpx.Headers({})) is None


def test_a_stall_mid_answer_times_out_and_keeps_the_partial(fake_provider: str,
                                                           fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(text="one two three four", tokens_per_s=0.5))
    done = stream_events(ProviderHub(timeout=0.5, max_retries=2), target())[-1]
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.TIMEOUT
    assert done.partial == "one"
    assert len(fake_server.chat_requests()) == 1  # text had arrived: no retry


def test_drop_before_any_answer_is_retried(fake_provider: str, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(fault="drop"), Reply(text="second try"))
    done = stream_events(ProviderHub(max_retries=1, max_retry_wait=0.05), target())[-1]
    assert getattr(done, "text", None) == "second try"
    assert len(fake_server.chat_requests()) == 2


def test_a_cut_after_the_finish_reason_keeps_the_whole_answer(hub: ProviderHub,
                                                              fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(text="all of it", fault="cut_after_finish"))
    done = stream_events(hub, target())[-1]
    assert isinstance(done, Finished) and done.text == "all of it" and done.finish_reason == "stop"
    assert done.completion_tokens is None  # the usage chunk never came: unknown, not 0


def test_a_503_with_retry_after_is_retried_after_that_wait(fake_provider: str,
                                                          fake_server: FakeOpenAI) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    fake_server.enqueue(Reply(status=503, retry_after=2), Reply(text="back"))
    done = stream_events(ProviderHub(max_retries=1, sleep=sleep), target())[-1]
    assert isinstance(done, Finished) and done.text == "back" and waits == [2]


def test_a_400_keeps_the_servers_reason(fake_provider: str, fake_server: FakeOpenAI) -> None:
    fake_server.enqueue(Reply(status=400, code="invalid_argument", message="Bad temperature value"))
    done = stream_events(ProviderHub(), target())[-1]
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.BAD_REQUEST
    assert "Bad temperature value" in done.message


def test_gemini_style_list_error_body_is_read() -> None:
    request = httpx.Request("POST", "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions")
    response = httpx.Response(400, request=request)
    body = [{"error": {"code": 400, "message": "The input token count exceeds the maximum context length"}}]
    exc = openai.BadRequestError("Error code: 400", response=response, body=body)
    failure = classify(exc, provider="Gemini", host="generativelanguage.googleapis.com", model="gemini-x")
    assert failure.kind is ErrorKind.CONTEXT_TOO_LONG


def test_a_429_with_a_sub_second_wait_says_one_second_not_zero() -> None:
    request = httpx.Request("POST", "https://llm.example.invalid/v1/chat/completions")
    for header, said in (("0.4", "1 s"), ("2.2", "3 s"), ("5", "5 s")):
        response = httpx.Response(429, request=request, headers={"retry-after": header})
        exc = openai.RateLimitError("Error code: 429", response=response, body=None)
        failure = classify(exc, provider="P", host="llm.example.invalid", model="m")
        assert failure.kind is ErrorKind.RATE_LIMITED
        assert f"Try again in {said}." in failure.message, failure.message


def _connection_error(cause: BaseException) -> openai.APIConnectionError:
    request = httpx.Request("POST", "https://llm.example.invalid/v1/chat/completions")
    try:
        try:
            raise cause
        except BaseException as inner:
            raise httpx.ConnectError(str(inner), request=request) from inner
    except httpx.ConnectError as transport:
        exc = openai.APIConnectionError(request=request)
        exc.__cause__ = transport
        return exc


def test_unreachable_says_whether_the_name_or_the_server_is_the_problem() -> None:
    """A typo in the host and a server that is not running were one sentence that named the host twice."""
    import socket

    def message(cause: BaseException) -> str:
        failure = classify(_connection_error(cause), provider="vLLM", host="llm.example.invalid", model="m")
        assert failure.kind is ErrorKind.UNREACHABLE
        return failure.message

    dns = message(socket.gaierror(-2, "Name or service not known"))
    assert "host name in llm.example.invalid was not found" in dns and "typo" in dns
    refused = message(ConnectionRefusedError(111, "Connection refused"))
    assert "connection refused" in refused and "Is the server running" in refused
    assert refused.count("llm.example.invalid") == 1  # the host once, not twice in one sentence
    other = message(OSError(113, "No route to host"))
    assert "is the server running at llm.example.invalid" in other
    assert "No route" not in other  # the transport's own words are never passed through


def test_a_refused_port_says_connection_refused(fake_server: FakeOpenAI) -> None:
    from app.providers.registry import Registry

    fake_server.stop()
    Registry().add("stopped", fake_server.base_url, needs_key=False)
    done = stream_events(ProviderHub(max_retries=0), target("stopped"))[-1]
    assert isinstance(done, StreamFailed) and done.kind is ErrorKind.UNREACHABLE
    assert "connection refused" in done.message and f"127.0.0.1:{fake_server.port}" in done.message
