"""Concurrency limits: one global slot count, a fixed one per provider endpoint, and an adaptive
one per model target (endpoint + model).

These are counters, not semaphores: the engine's scheduler decides which queued cell takes a
free slot (in plan order), so it needs to ask "is there room?" without waiting on anything.

Faults are accounted per target: on a 429 that target's limit is halved (minimum 1), once per
burst: requests that were already in flight when the limit dropped do not halve it again. After
`recover_after` successes in a row it grows back by one, up to its ceiling (AIMD, as TCP does).
Another model on the same endpoint keeps its own limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.prototype import ModelTarget


def provider_key(target: ModelTarget) -> str:
    """Requests to the same provider endpoint share a limit; an overridden base_url is its own endpoint."""
    return f"{target.provider}|{target.base_url}" if target.base_url else target.provider


def target_key(target: ModelTarget) -> str:
    """Faults are accounted per model target: the provider endpoint plus the model."""
    return f"{provider_key(target)}#{target.model}"


@dataclass
class AdaptiveLimit:
    """Slots for one model target (endpoint + model)."""

    ceiling: int
    recover_after: int = 5
    limit: int = 0
    in_flight: int = 0
    epoch: int = 0
    """Bumped on every decrease; a 429 from a request started in an older epoch is already accounted for."""
    successes: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self.ceiling = max(1, self.ceiling)
        self.limit = self.limit or self.ceiling

    @property
    def free(self) -> int:
        return self.limit - self.in_flight

    def acquire(self) -> int:
        """Take a slot; returns the epoch to hand back to `rate_limited`."""
        self.in_flight += 1
        return self.epoch

    def release(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)

    def succeeded(self) -> None:
        self.successes += 1
        if self.limit < self.ceiling and self.successes >= self.recover_after:
            self.limit += 1
            self.successes = 0

    def rate_limited(self, epoch: int) -> bool:
        """Halve the limit unless this burst already did. True when the limit dropped."""
        self.successes = 0
        if epoch != self.epoch:
            return False
        self.epoch += 1
        new = max(1, self.limit // 2)
        changed = new != self.limit
        self.limit = new
        return changed

    def set_ceiling(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = min(self.limit, self.ceiling) if self.epoch else self.ceiling
