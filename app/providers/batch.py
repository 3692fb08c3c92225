"""A provider's Batch API through the `openai` SDK: upload a JSONL file, create, poll, download, cancel.

The client comes from `ProviderHub.sdk_client`, so the key is the one stored for the target's
host (never sent elsewhere unasked), as for streaming. Every SDK error becomes a ProviderError
with a message that says what to do, with the key redacted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import openai

from app.core.prototype import ModelTarget

from .errors import classify
from .events import ErrorKind, ProviderError
from .hub import ProviderHub

_T = TypeVar("_T")
JOB_METADATA_KEY = "protostudio_job"
"""Batch metadata naming the file's job id, so a batch created just before a crash is found again."""


@dataclass(frozen=True)
class BatchState:
    """What the provider says about a batch."""

    batch_id: str
    status: str
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: str = ""


class BatchApi:
    """Files and batches endpoints for one hub."""

    def __init__(self, hub: ProviderHub) -> None:
        self.hub = hub

    async def _call(
        self, target: ModelTarget, what: str, fn: Callable[[openai.AsyncOpenAI], Awaitable[_T]]
    ) -> _T:
        client, endpoint, key = await self.hub.sdk_client(target)
        try:
            return await fn(client)
        except openai.APIStatusError as exc:
            failure = classify(
                exc, provider=endpoint.spec.name, host=endpoint.host, model=target.model, secrets=(key,)
            )
            if exc.status_code == 404:
                raise ProviderError(
                    ErrorKind.NOT_FOUND,
                    f"{endpoint.spec.name} at {endpoint.host} has no batch API ({what} answered 404).",
                    status=404,
                ) from None
            raise ProviderError(failure.kind, f"{what}: {failure.message}", status=failure.status) from None
        except openai.APIError as exc:
            failure = classify(
                exc, provider=endpoint.spec.name, host=endpoint.host, model=target.model, secrets=(key,)
            )
            raise ProviderError(failure.kind, f"{what}: {failure.message}") from None

    async def upload(self, target: ModelTarget, name: str, data: bytes) -> str:
        """Upload a batch input file; returns its file id."""
        made = await self._call(
            target, "uploading the batch file", lambda c: c.files.create(file=(name, data), purpose="batch")
        )
        return str(made.id)

    async def create(self, target: ModelTarget, file_id: str, job_id: str, window: str = "24h") -> BatchState:
        batch = await self._call(
            target,
            "creating the batch",
            lambda c: c.batches.create(
                input_file_id=file_id,
                endpoint="/v1/chat/completions",
                completion_window=window,  # type: ignore[arg-type]
                metadata={JOB_METADATA_KEY: job_id},
            ),
        )
        return _state(batch)

    async def find(self, target: ModelTarget, job_id: str) -> BatchState | None:
        """The batch created for `job_id`, if one was (the process may have died before recording it)."""

        async def look(client: openai.AsyncOpenAI) -> BatchState | None:
            async for batch in client.batches.list(limit=100):
                if (batch.metadata or {}).get(JOB_METADATA_KEY) == job_id:
                    return _state(batch)
            return None

        return await self._call(target, "listing batches", look)

    async def retrieve(self, target: ModelTarget, batch_id: str) -> BatchState:
        return _state(await self._call(target, "checking the batch", lambda c: c.batches.retrieve(batch_id)))

    async def cancel(self, target: ModelTarget, batch_id: str) -> BatchState:
        return _state(await self._call(target, "cancelling the batch", lambda c: c.batches.cancel(batch_id)))

    async def content(self, target: ModelTarget, file_id: str) -> str:
        response = await self._call(target, "downloading batch results", lambda c: c.files.content(file_id))
        return response.text


def _state(batch: Any) -> BatchState:
    counts = batch.request_counts
    errors = ""
    if batch.errors is not None and batch.errors.data:
        errors = "; ".join(str(e.message or e.code) for e in batch.errors.data[:3])
    return BatchState(
        batch_id=str(batch.id),
        status=str(batch.status),
        total=counts.total if counts else 0,
        completed=counts.completed if counts else 0,
        failed=counts.failed if counts else 0,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        errors=errors,
    )
