"""The sink interface: what the runner's delivery loop hands a notification backend, and what
it hands back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from jobscrape.postings import Change

#: Longest error text a sink reports (it reaches status.notify[].lastError).
MAX_ERROR = 200


class SinkConfigError(ValueError):
    """A target cannot be used as configured (bad URL, refused address, missing credentials);
    the message names what is wrong in one line and never contains the secret itself."""


@dataclass
class SendResult:
    """What became of one `send`: the seqs delivered, and for the rest one short,
    secret-free error and, when the server said so, how long to wait before trying again."""

    sent: list[int] = field(default_factory=list)
    error: str = ""
    retry_after: float | None = None


class Sink(Protocol):
    """One notification target. `send` delivers as many of `changes` (oldest first) as it
    can, in order, and stops at the first failure; it never raises for a delivery failure
    (that is the result's `error`), and never puts a secret in an error."""

    name: str
    max_batch: int  # how many changes one `send` takes at most

    async def send(self, changes: Sequence[Change]) -> SendResult:
        """Deliver `changes` (at most max_batch)."""
        ...

    async def aclose(self) -> None:
        """Release connections and clients."""
        ...
