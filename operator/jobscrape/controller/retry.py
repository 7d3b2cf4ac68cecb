"""Backoff for failed reconciles: each failure of the same source waits longer, a success
resets it. Pure bookkeeping; the operator schedules the retries."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays of base, base*factor, base*factor^2 ... seconds, at most `cap`, per key."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    _failures: dict[Hashable, int] = field(default_factory=dict)

    def failed(self, key: Hashable) -> float:
        """Record one more failure of `key`; the seconds to wait before retrying it."""
        n = self._failures.get(key, 0) + 1
        self._failures[key] = n
        return float(min(self.cap, self.base * self.factor ** (n - 1)))

    def succeeded(self, key: Hashable) -> None:
        """`key` reconciled fine: its next failure starts from `base` again."""
        self._failures.pop(key, None)

    def failures(self, key: Hashable) -> int:
        """Failures of `key` in a row."""
        return self._failures.get(key, 0)

    @property
    def pending(self) -> int:
        """How many keys are failing now."""
        return len(self._failures)
