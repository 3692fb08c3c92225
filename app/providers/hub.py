"""The one entry point to every model: resolve a target to an endpoint and key, then stream typed events.

Every provider, the bundled model included, is an OpenAI-compatible endpoint reached with the `openai`
SDK. The hub adds what the SDK leaves to us: key lookup bound to the endpoint's host, a disk cache,
prices, user-facing errors, a bounded wait on `Retry-After`, and mapping a crash of the bundled model's
child process to one clear error. Provider faults never raise out of `stream()`: they end it with one
`StreamFailed` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Protocol

import openai

from app.core.endpoints import hostname_of, shown_host
from app.core.images import ImageError
from app.core.prototype import Message, ModelTarget

from . import retry, sdk_request, sse
from .cache import CachedAnswer, ResponseCache, cache_key
from .errors import Failure, classify, stream_options_rejected
from .events import (
    ErrorKind,
    Finished,
    ProviderError,
    Started,
    StreamedCall,
    StreamEvent,
    StreamFailed,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from .keys import KeySource, KeyStore
from .pricing import PriceTable
from .registry import ProviderSpec, Registry, RegistryError, host_of
from .wire import CallAssembler, cache_messages, has_attachments, plain_wire, wire_messages

LOCAL_READ_TIMEOUT_S = 300.0
NO_KEY = "no-key"
"""Sent to keyless endpoints: the SDK insists on a non-empty key."""

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
_CRASH_KINDS = (ErrorKind.UNREACHABLE, ErrorKind.CUT, ErrorKind.SERVER, ErrorKind.TIMEOUT, ErrorKind.UNKNOWN)


class LocalLease(Protocol):
    """One request's hold on the process of the bundled model that serves it (see `local_model.py`)."""

    base_url: str
    api_key: str

    def crashed(self) -> bool: ...

    def last_exit_description(self) -> str | None: ...

    def release(self) -> None: ...


class LocalModel(Protocol):
    """What the hub needs from the bundled model's process manager (see `local_model.py`)."""

    slots: int

    async def acquire(self, *, embedding: bool = False) -> LocalLease: ...


@dataclass(frozen=True)
class ResolvedEndpoint:
    """Where a target's requests go and where its key comes from. Holds no key."""

    spec: ProviderSpec
    base_url: str
    host: str
    key_source: KeySource
    foreign: bool
    """The base_url was overridden to a host other than the provider's own."""

    @property
    def is_local(self) -> bool:
        return self.spec.local and not self.foreign


@dataclass(frozen=True)
class _Access:
    """What sending to a target needs, looked up once (keyring included) and reused for a while."""

    endpoint: ResolvedEndpoint | None
    key: str | None
    refusal: ProviderError | None


ACCESS_TTL_S = 30.0
"""How long a target's endpoint and key are reused before they are looked up again (off the loop)."""


class ProviderHub:
    """Streams chat completions from any registered provider. Create one per app; `aclose()` at exit."""

    def __init__(self, *, registry: Registry | None = None, keys: KeyStore | None = None,
                 cache: ResponseCache | None = None, local: LocalModel | None = None,
                 timeout: float = 60.0, max_retries: int = 2, max_retry_wait: float = 20.0,
                 prices: PriceTable | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.registry = registry or Registry()
        self.keys = keys or KeyStore()
        self.cache = cache or ResponseCache()
        self.prices = prices or PriceTable()
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._local = local
        self._sleep = sleep or asyncio.sleep
        self._allowed_hosts: set[tuple[str, str]] = set()
        self._clients: dict[tuple[int, str, str], openai.AsyncOpenAI] = {}
        self._no_stream_options: set[str] = set()
        self._access: dict[tuple[str, str | None], tuple[float, int, _Access]] = {}
        self._access_lock = threading.Lock()
        self._access_version = 0

    @property
    def local_slots(self) -> int:
        """How many requests the bundled model decodes at once; does not start it."""
        if self._local is None:
            from app.providers.local_model import default_slots

            return default_slots()
        return max(1, self._local.slots)

    @property
    def local(self) -> LocalModel:
        if self._local is None:
            from app.providers.local_model import shared_local_model

            self._local = shared_local_model()
        return self._local

    # -- endpoints and keys ------------------------------------------------------------------------

    def _spec(self, provider_id: str) -> ProviderSpec:
        try:
            return self.registry.get(provider_id)
        except RegistryError as exc:  # a broken custom providers file: say so, as a provider error
            raise ProviderError(ErrorKind.UNKNOWN_PROVIDER, str(exc)) from None

    def resolve(self, target: ModelTarget) -> ResolvedEndpoint:
        """Which endpoint and key source a target uses. Raises ProviderError for an unknown provider."""
        spec = self._spec(target.provider)
        base_url = target.base_url or spec.base_url
        host = host_of(base_url)
        _, source = self._key(spec, host)
        return ResolvedEndpoint(spec, base_url, host, source, foreign=host != spec.host)

    def key_status(self, provider_id: str) -> KeySource:
        """Where the key for the provider's own endpoint would come from."""
        spec = self._spec(provider_id)
        return self._key(spec, spec.host)[1]

    def needs_host_confirmation(self, target: ModelTarget) -> str | None:
        """The host, when sending would take a key stored for the provider's own host somewhere else."""
        spec = self._spec(target.provider)
        host = host_of(target.base_url or spec.base_url)
        if host == spec.host or (spec.id, host) in self._allowed_hosts:
            return None
        if self.keys.has_stored(spec.id, host):  # the user stored a key for that very host
            return None
        own_key, _ = self.keys.lookup(spec.id, spec.host, spec.key_env)
        return host if own_key else None

    def allow_host(self, provider_id: str, host: str) -> None:
        """The user said yes: for this session, `provider_id`'s key may go to `host`."""
        self._allowed_hosts.add((provider_id, host.lower()))
        self._access_version += 1

    def _key(self, spec: ProviderSpec, host: str) -> tuple[str | None, KeySource]:
        own_host = host == spec.host
        key, source = self.keys.lookup(spec.id, host, spec.key_env if own_host else None)
        if key or own_host:
            return key, source
        if (spec.id, host) in self._allowed_hosts:
            return self.keys.lookup(spec.id, spec.host, spec.key_env)
        return None, "none"

    async def _prepare(self, target: ModelTarget, *, embedding: bool = False,
                       ) -> tuple[ResolvedEndpoint, str, str, LocalLease | None]:
        """Endpoint, the URL to call, the key to send, and for the bundled model a lease on the process
        serving it (started if needed; its own session key), which the caller must release.

        The endpoint and key are looked up once per target (then reused for `ACCESS_TTL_S`, or
        until a key or a host confirmation changes), in a worker thread: an OS keyring can block.
        """
        access = self._cached_access(target)
        if access is None:
            access = await asyncio.to_thread(self._lookup_access, target)
        if access.refusal is not None:  # a fresh exception each time: the cached one is shared
            raise ProviderError(access.refusal.kind, access.refusal.message)
        assert access.endpoint is not None
        endpoint = access.endpoint
        if endpoint.is_local:
            lease = await self._lease_local(embedding=embedding)
            return endpoint, lease.base_url, lease.api_key, lease
        return endpoint, endpoint.base_url, access.key or NO_KEY, None

    def _access_stamp(self) -> int:
        return self._access_version * 1_000_003 + getattr(self.keys, "generation", 0)

    def _cached_access(self, target: ModelTarget) -> _Access | None:
        hit = self._access.get((target.provider, target.base_url))
        if hit is not None and hit[1] == self._access_stamp() and time.monotonic() - hit[0] < ACCESS_TTL_S:
            return hit[2]
        return None

    def _lookup_access(self, target: ModelTarget) -> _Access:
        """Resolve the endpoint, check the host binding and find the key: every keyring call is here."""
        with self._access_lock:  # cells of one target starting together look up once
            cached = self._cached_access(target)
            if cached is not None:
                return cached
            stamp = self._access_stamp()
            access = self._access_uncached(target)
            self._access[(target.provider, target.base_url)] = (time.monotonic(), stamp, access)
            return access

    def _access_uncached(self, target: ModelTarget) -> _Access:
        try:
            endpoint = self.resolve(target)
        except ProviderError as exc:
            return _Access(None, None, exc)
        spec = endpoint.spec
        foreign = self.needs_host_confirmation(target)
        if foreign:
            return _Access(endpoint, None, ProviderError(
                ErrorKind.HOST_NOT_CONFIRMED,
                f"This prototype points {spec.name} at {shown_host(foreign)}, not {shown_host(spec.host)}. "
                f"Your stored key is not sent there unless you confirm (or store a key for "
                f"{shown_host(foreign)})."))
        key, _ = self._key(spec, endpoint.host)
        if not key and spec.needs_key:
            env = f", set {spec.key_env}" if spec.key_env and not endpoint.foreign else ""
            return _Access(endpoint, None, ProviderError(
                ErrorKind.AUTH,
                f"No key for {spec.name} at {endpoint.host}. Add one in Settings > Providers "
                f"(or `protostudio providers set-key {spec.id}`{env})."))
        return _Access(endpoint, key, None)

    def _is_local(self, target: ModelTarget) -> bool:
        spec = self._spec(target.provider)
        return spec.local and host_of(target.base_url or spec.base_url) == spec.host

    def _cache_ident(self, target: ModelTarget) -> str:
        """The response cache's name for a target's endpoint; no keyring involved."""
        access = self._cached_access(target)  # looked up once per target: no registry stat per request
        if access is not None and access.endpoint is not None:
            endpoint = access.endpoint
            return f"local:{target.model}" if endpoint.is_local else endpoint.base_url
        if self._is_local(target):
            return f"local:{target.model}"
        return target.base_url or self._spec(target.provider).base_url

    def cache_key_for(self, target: ModelTarget, messages: list[Message]) -> str:
        """The response-cache key `stream()` uses for this request (batch answers are stored under it)."""
        wire = cache_messages(messages)
        endpoint = self.resolve(target)
        ident = f"local:{target.model}" if endpoint.is_local else endpoint.base_url
        return cache_key(ident, target.model, target.params.model_dump(exclude_none=True), wire)

    def cost_of(self, target: ModelTarget, prompt_tokens: int | None,
                completion_tokens: int | None) -> float | None:
        """The interactive price of an answer to `target`, as `stream()` reports it."""
        return self.prices.cost(self.resolve(target).spec.id, target.model, prompt_tokens, completion_tokens)

    async def sdk_client(self, target: ModelTarget) -> tuple[openai.AsyncOpenAI, ResolvedEndpoint, str]:
        """An SDK client for the target's endpoint with its key (host-bound as for streaming), for APIs the
        hub does not wrap (files, batches). Raises ProviderError. Not for the bundled model."""
        endpoint = self.resolve(target)
        if endpoint.is_local:
            raise ProviderError(ErrorKind.BAD_REQUEST, "The bundled local model has no batch API.")
        endpoint, base_url, key, _ = await self._prepare(target)
        return self._client(base_url, key), endpoint, key

    async def _lease_local(self, *, embedding: bool = False) -> LocalLease:
        """The bundled model's chat (or embedding) process, started if needed."""
        try:
            return await self.local.acquire(embedding=embedding)
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(ErrorKind.LOCAL_CRASH,
                                f"The bundled model could not start ({type(exc).__name__}: {exc}).") from None

    def _client(self, base_url: str, key: str, *, local: bool = False) -> openai.AsyncOpenAI:
        """One SDK client per loop, endpoint and key (clients hold connections bound to their loop)."""
        loop = id(asyncio.get_running_loop())
        ident = (loop, base_url, hashlib.sha256(key.encode()).hexdigest())
        client = self._clients.get(ident)
        if client is None:
            loopback = hostname_of(base_url) in _LOOPBACK
            # A child of the bundled model queues concurrent requests: a long wait there is a queue.
            read = max(self.timeout, LOCAL_READ_TIMEOUT_S) if local else self.timeout
            client = openai.AsyncOpenAI(
                api_key=key, base_url=base_url, max_retries=0,  # retries are ours: bounded Retry-After
                timeout=openai.Timeout(read, connect=min(self.timeout, 10.0)),
                http_client=openai.DefaultAsyncHttpxClient(trust_env=not loopback),  # no proxy for loopback
            )
            self._clients[ident] = client
        return client

    # -- streaming ---------------------------------------------------------------------------------

    async def stream(self, target: ModelTarget, messages: list[Message], *, use_cache: bool = True,
                     max_retries: int | None = None, sample: int = 0, base_dir: str | None = None,
                     ) -> AsyncGenerator[StreamEvent, None]:
        """Started, TextDelta and ToolCallDelta..., UsageReport?, then exactly one Finished or StreamFailed.

        TTFT and latency count from sending the attempt that answered (not retry waits). A cache hit
        replays the stored answer with its original timings and `cached=True`. Cancelling the consuming
        task closes the HTTP connection at once. Images attached to messages are read relative to
        `base_dir` (the prototype's folder) and sent as data URLs.
        """
        params = target.params.model_dump(exclude_none=True)
        try:
            ident = self._cache_ident(target)
            if has_attachments(messages):  # reading and encoding images: off the loop
                wire, digests = await asyncio.to_thread(wire_messages, messages, base_dir)
            else:
                wire, digests = [plain_wire(m) for m in messages], {}
        except (ProviderError, ImageError) as exc:
            yield Started()
            if isinstance(exc, ImageError):
                yield StreamFailed(ErrorKind.BAD_REQUEST, f"Not sent: {exc}.")
            else:
                yield StreamFailed(exc.kind, exc.message)
            return
        key = cache_key(ident, target.model, params, cache_messages(messages, digests))
        if sample:  # each sample of a cell has its own cache slot: samples differ, re-runs replay them
            key = hashlib.sha256(f"{key}#sample={sample}".encode()).hexdigest()
        hit = await asyncio.to_thread(self.cache.get, key) if use_cache else None
        if hit is not None:
            yield Started(cached=True)
            if hit.text:
                yield TextDelta(hit.text)
            for index, call in enumerate(hit.tool_calls):
                yield ToolCallDelta(index, call["id"], call["name"], call["arguments"])
            yield self._finished_cached(target, hit)
            return
        yield Started()
        async with contextlib.aclosing(self._request(target, wire, params, key, max_retries)) as events:
            async for event in events:
                yield event

    async def _request(self, target: ModelTarget, wire: list[dict[str, Any]], params: dict[str, Any],
                       key: str, max_retries: int | None) -> AsyncGenerator[StreamEvent, None]:
        try:
            endpoint, base_url, api_key, lease = await self._prepare(target)
        except ProviderError as exc:
            yield StreamFailed(exc.kind, exc.message, status=exc.status)
            return
        try:
            async with contextlib.aclosing(self._send(
                    target, wire, params, key, max_retries=max_retries, endpoint=endpoint,
                    base_url=base_url, api_key=api_key, lease=lease)) as events:
                async for event in events:
                    yield event
        finally:
            if lease is not None:
                lease.release()

    async def _send(self, target: ModelTarget, wire: list[dict[str, Any]], params: dict[str, Any],
                    key: str, *, max_retries: int | None, endpoint: ResolvedEndpoint, base_url: str,
                    api_key: str, lease: LocalLease | None) -> AsyncGenerator[StreamEvent, None]:
        client = self._client(base_url, api_key, local=endpoint.is_local)
        kwargs: dict[str, Any] = {"model": target.model, "messages": wire, "stream": True, **params}
        if target.timeout_s is not None:  # this model's own read timeout (e.g. a slow reasoning model)
            kwargs["timeout"] = openai.Timeout(target.timeout_s, connect=min(target.timeout_s, 10.0))
        if base_url not in self._no_stream_options:
            kwargs["stream_options"] = {"include_usage": True}
        retries = self.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            sent = perf_counter()
            failure: Failure | None = None
            try:  # the SDK sends; `sse.chunks` reads (no pydantic object per chunk)
                request = sdk_request.create_kwargs(kwargs)  # past the SDK's transform
                raw = await client.chat.completions.with_raw_response.create(**request)
                stream = raw.http_response
            except Exception as exc:
                if "stream_options" in kwargs and stream_options_rejected(exc):
                    self._no_stream_options.add(base_url)
                    kwargs.pop("stream_options")
                    continue
                failure = await self._classify(exc, endpoint, target, api_key, lease)
            if failure is None:
                break
            wait = self._retry_wait(failure, attempt)
            if attempt >= retries or wait is None:
                yield failure.as_event(latency_s=perf_counter() - sent)
                return
            attempt += 1
            await self._sleep(wait)

        parts: list[str] = []
        ttft: float | None = None
        finish: str | None = None
        usage: tuple[int | None, int | None] | None = None
        calls = CallAssembler()
        try:
            async for chunk in sse.chunks(stream):
                reported = chunk.get("usage")
                if isinstance(reported, dict):
                    usage = (reported.get("prompt_tokens"), reported.get("completion_tokens"))
                for choice in chunk.get("choices") or ():
                    if choice.get("index", 0) != 0:
                        continue
                    message = choice.get("delta") or {}
                    delta = message.get("content")
                    if delta:
                        if ttft is None:
                            ttft = perf_counter() - sent
                        parts.append(delta)
                        yield TextDelta(delta)
                    for call_delta in message.get("tool_calls") or ():
                        seen = calls.add(call_delta)
                        if seen is not None:
                            if ttft is None:
                                ttft = perf_counter() - sent
                            yield ToolCallDelta(*seen)
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
        except Exception as exc:
            if finish is None:  # after the finish reason only usage and [DONE] were lost: keep the answer
                failure = await self._classify(exc, endpoint, target, api_key, lease, mid_stream=True)
                yield failure.as_event("".join(parts), ttft_s=ttft, latency_s=perf_counter() - sent)
                return
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()  # also on cancellation: drops the connection instead of draining it
        latency = perf_counter() - sent
        text = "".join(parts)
        if finish is None:
            failure = await self._local_crash_or(Failure(
                ErrorKind.CUT, f"{endpoint.spec.name} at {endpoint.host} ended the stream mid-answer; "
                "the partial answer is kept."), lease)
            yield failure.as_event(text, ttft_s=ttft, latency_s=latency)
            return
        if usage is not None:
            yield UsageReport(*usage)
        answer = CachedAnswer(text, finish, *(usage or (None, None)), ttft_s=ttft, latency_s=latency,
                              tool_calls=tuple({"id": c.id, "name": c.name, "arguments": c.arguments}
                                               for c in calls.finished()))
        with contextlib.suppress(OSError):  # a full disk must not lose the answer itself
            await asyncio.to_thread(self.cache.put, key, answer)  # fsync stays off the event loop
        yield self._finished(endpoint, target, answer, cached=False)

    def _finished_cached(self, target: ModelTarget, answer: CachedAnswer) -> Finished:
        cost = self.prices.cost(target.provider, target.model, answer.prompt_tokens, answer.completion_tokens)
        return Finished(answer.text, answer.finish_reason, answer.ttft_s, answer.latency_s,
                        answer.prompt_tokens, answer.completion_tokens, cost, True, _calls_of(answer))

    def _finished(self, endpoint: ResolvedEndpoint, target: ModelTarget, answer: CachedAnswer, *,
                  cached: bool) -> Finished:
        cost = self.prices.cost(endpoint.spec.id, target.model, answer.prompt_tokens,
                                answer.completion_tokens)
        return Finished(answer.text, answer.finish_reason, answer.ttft_s, answer.latency_s,
                        answer.prompt_tokens, answer.completion_tokens, cost, cached, _calls_of(answer))

    def _retry_wait(self, failure: Failure, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when this failure should not be retried
        (the policy is `retry.py`'s, shared with the engine)."""
        if not retry.retryable(failure.kind):
            return None
        if failure.retry_after is not None:  # 429, or a 503 that says when to come back
            return failure.retry_after if failure.retry_after <= self.max_retry_wait else None
        return retry.backoff(attempt, max_wait=self.max_retry_wait)

    async def _classify(self, exc: BaseException, endpoint: ResolvedEndpoint, target: ModelTarget,
                        api_key: str, lease: LocalLease | None = None, *,
                        mid_stream: bool = False) -> Failure:
        failure = classify(exc, provider=endpoint.spec.name, host=endpoint.host, model=target.model,
                           secrets=(api_key,))
        if mid_stream and failure.kind is ErrorKind.UNREACHABLE:  # a read error after the answer began
            failure = Failure(ErrorKind.CUT, f"The connection to {endpoint.spec.name} at {endpoint.host} "
                              "closed mid-answer; the partial answer is kept.")
        return await self._local_crash_or(failure, lease)

    async def _local_crash_or(self, failure: Failure, lease: LocalLease | None) -> Failure:
        """A connection fault from the bundled model usually means the child serving it died: say so.

        Asks the lease, so only the requests on the child that died are reported as its crash."""
        if lease is None or failure.kind not in _CRASH_KINDS:
            return failure
        for _ in range(20):  # the socket can close a moment before the process is reaped
            if lease.crashed():
                how = lease.last_exit_description() or "it exited unexpectedly"
                return Failure(ErrorKind.LOCAL_CRASH,
                               f"The bundled model crashed ({how}); it restarts on the next run.")
            await asyncio.sleep(0.05)
        return failure

    # -- non-streaming helpers ---------------------------------------------------------------------

    async def complete(self, target: ModelTarget, messages: list[Message], *,
                       use_cache: bool = True) -> Finished:
        """The whole answer at once (judges use this). Raises ProviderError on failure."""
        finished: Finished | None = None
        async for event in self.stream(target, messages, use_cache=use_cache):
            if isinstance(event, StreamFailed):
                raise ProviderError(event.kind, event.message, status=event.status,
                                    retry_after=event.retry_after)
            if isinstance(event, Finished):
                finished = event
        if finished is None:  # pragma: no cover - stream() always ends with Finished or StreamFailed
            raise ProviderError(ErrorKind.UNKNOWN, "The stream ended without an answer.")
        return finished

    async def list_models(self, provider_id: str, base_url: str | None = None) -> list[str]:
        """Model ids from the endpoint's `GET /models`, sorted."""
        target = ModelTarget(id="models", provider=provider_id, model="-", base_url=base_url)
        if self._is_local(target):
            from app.providers.local_model import LOCAL_MODEL_ID

            return [LOCAL_MODEL_ID]
        endpoint, url, api_key, _ = await self._prepare(target)  # not local: no lease
        try:
            page = await self._client(url, api_key).models.list()
            return sorted(model.id for model in page.data)
        except Exception as exc:
            raise (await self._classify(exc, endpoint, target, api_key)).as_error() from None

    async def embed(self, provider_id: str, model: str, texts: list[str],
                    base_url: str | None = None) -> list[list[float]]:
        """One vector per text, from the endpoint's `POST /embeddings`."""
        target = ModelTarget(id="embed", provider=provider_id, model=model, base_url=base_url)
        endpoint, url, api_key, lease = await self._prepare(target, embedding=True)
        try:
            result = await self._client(url, api_key, local=lease is not None).embeddings.create(
                model=model, input=texts, encoding_format="float")
        except Exception as exc:
            raise (await self._classify(exc, endpoint, target, api_key, lease)).as_error() from None
        finally:
            if lease is not None:
                lease.release()
        return [list(item.embedding) for item in sorted(result.data, key=lambda item: item.index)]

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()



def _calls_of(answer: CachedAnswer) -> tuple[StreamedCall, ...]:
    return tuple(StreamedCall(c["id"], c["name"], c["arguments"]) for c in answer.tool_calls)
