"""Anthropic's Message Batches over plain HTTP: create, retrieve, list, cancel, results.

The `openai` SDK cannot speak this API, so this is a small httpx client (the one the SDK is built
on). The key is the hub's, for the target's endpoint (bound to its scheme + host + port, as for
streaming: `ProviderHub.sdk_client` does the lookup and host checks), and it goes only to that
endpoint: a `results_url` on any other scheme, host or port is refused before anything is sent,
and redirects are not followed. Errors become ProviderErrors whose messages are built by
`errors.classify`, with the key redacted.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from typing import Any

import openai

from app.core.endpoints import hostname_of, key_host
from app.core.message_batches import (
    ANTHROPIC_VERSION,
    Listed,
    counts_of,
    listed,
    listed_before,
    status_of,
)
from app.core.prototype import BatchIntent, ModelTarget

from ._transport import httpx
from .batch import BatchState
from .errors import classify, redact
from .events import ErrorKind, ProviderError
from .hub import NO_KEY, ProviderHub, ResolvedEndpoint

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
LIST_PAGE = 100
MAX_LIST_PAGES = 50
"""A resumed run looks at most this many pages back for its batch (5,000 batches)."""


@dataclass(frozen=True)
class _Call:
    endpoint: ResolvedEndpoint
    key: str


class MessageBatchApi:
    """Message Batches endpoints for one hub (`{base_url}/messages/batches`)."""

    def __init__(self, hub: ProviderHub) -> None:
        self.hub = hub

    async def _access(self, target: ModelTarget) -> _Call:
        _client, endpoint, key = await self.hub.sdk_client(target)  # host binding, key lookup, refusals
        return _Call(endpoint, key)

    def _url(self, call: _Call, path: str) -> str:
        return call.endpoint.base_url.rstrip("/") + "/messages/batches" + path

    async def _request(self, target: ModelTarget, what: str, method: str, path: str = "", *,
                       url: str | None = None, body: Any = None,
                       params: dict[str, Any] | None = None) -> httpx.Response:
        call = await self._access(target)
        endpoint = call.endpoint
        url = url or self._url(call, path)
        if key_host(url) != endpoint.host:
            raise ProviderError(
                ErrorKind.HOST_NOT_CONFIRMED,
                f"{what}: {endpoint.spec.name} pointed at {key_host(url)}, not {endpoint.host}; "
                "the key is not sent there.",
            )
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if call.key and call.key != NO_KEY:
            headers["x-api-key"] = call.key
        timeout = httpx.Timeout(self.hub.timeout, connect=min(self.hub.timeout, 10.0))
        loopback = hostname_of(url) in _LOOPBACK
        try:
            async with httpx.AsyncClient(timeout=timeout, trust_env=not loopback, verify=_tls(),
                                         follow_redirects=False) as client:
                response = await client.request(method, url, headers=headers, json=body, params=params)
                await response.aread()
        except httpx.HTTPError as exc:
            failure = classify(exc, provider=endpoint.spec.name, host=endpoint.host, model=target.model,
                               secrets=(call.key,))
            raise ProviderError(failure.kind, f"{what}: {failure.message}") from None
        if response.status_code >= 400:
            raise self._status_error(response, what, target, call) from None
        return response

    @staticmethod
    def _status_error(response: httpx.Response, what: str, target: ModelTarget, call: _Call) -> ProviderError:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        endpoint = call.endpoint
        if response.status_code == 404:
            said = ""
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                said = redact(str(body["error"].get("message") or ""), (call.key,))
            return ProviderError(
                ErrorKind.NOT_FOUND,
                f"{endpoint.spec.name} at {endpoint.host}: {what} answered 404"
                + (f" ({said})" if said else " (no Message Batches API there, or no such batch)") + ".",
                status=404,
            )
        exc = openai.APIStatusError("message batches", response=response, body=body)
        failure = classify(exc, provider=endpoint.spec.name, host=endpoint.host, model=target.model,
                           secrets=(call.key,))
        return ProviderError(failure.kind, f"{what}: {failure.message}", status=failure.status,
                             retry_after=failure.retry_after)

    # -- the endpoints -------------------------------------------------------------------------------

    async def create(self, target: ModelTarget, requests: list[dict[str, Any]]) -> BatchState:
        response = await self._request(target, "creating the message batch", "POST",
                                       body={"requests": requests})
        return state_of(_json(response, "creating the message batch"))

    async def retrieve(self, target: ModelTarget, batch_id: str) -> BatchState:
        return state_of(await self._batch(target, batch_id))

    async def _batch(self, target: ModelTarget, batch_id: str) -> dict[str, Any]:
        response = await self._request(target, "checking the message batch", "GET", f"/{batch_id}")
        data = _json(response, "checking the message batch")
        return data if isinstance(data, dict) else {}

    async def cancel(self, target: ModelTarget, batch_id: str) -> BatchState:
        response = await self._request(target, "cancelling the message batch", "POST", f"/{batch_id}/cancel")
        return state_of(_json(response, "cancelling the message batch"))

    async def created_since(self, target: ModelTarget, intent: BatchIntent) -> list[Listed]:
        """Batches listed newest first, down to the intent's time (no older page can hold its batch)."""
        found: list[Listed] = []
        params: dict[str, Any] = {"limit": LIST_PAGE}
        for _ in range(MAX_LIST_PAGES):
            response = await self._request(target, "listing message batches", "GET", params=params)
            page = _json(response, "listing message batches")
            data = page.get("data") if isinstance(page, dict) else None
            for item in data if isinstance(data, list) else []:
                if not isinstance(item, dict):
                    continue
                batch = listed(item)
                if listed_before(batch, intent):
                    return found
                found.append(batch)
            if not (isinstance(page, dict) and page.get("has_more") and page.get("last_id")):
                return found
            params = {"limit": LIST_PAGE, "after_id": page["last_id"]}
        return found

    async def results(self, target: ModelTarget, batch_id: str) -> str:
        """The results JSONL of an ended batch, from its `results_url` (only on the key's own endpoint)."""
        batch = await self._batch(target, batch_id)
        url = batch.get("results_url")
        if not isinstance(url, str) or not url:
            raise ProviderError(ErrorKind.BAD_REQUEST,
                                f"message batch {batch_id} has no results yet ({status_of(batch)}).")
        response = await self._request(target, "downloading message batch results", "GET", url=url)
        return response.text


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ProviderError(ErrorKind.SERVER, f"{what}: the server's answer is not JSON.") from None


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context (httpx's own default: certifi's CAs) for every call: building one
    per request cost ~0.15 s of CPU each."""
    return httpx.create_ssl_context()


def state_of(batch: Any) -> BatchState:
    """A Message Batch as the BatchState the runner, CLI and app already read."""
    data: dict[str, Any] = batch if isinstance(batch, dict) else {}
    counts = counts_of(data)
    unanswered = counts.get("errored", 0) + counts.get("canceled", 0) + counts.get("expired", 0)
    return BatchState(
        batch_id=str(data.get("id", "")),
        status=status_of(data),
        total=sum(counts.values()),
        completed=counts.get("succeeded", 0),
        failed=unanswered,
    )
