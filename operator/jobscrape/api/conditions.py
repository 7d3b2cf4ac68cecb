"""Status conditions as pure values: build one, and merge it keeping lastTransitionTime.

Shared by the operator (Ready) and the runner (Healthy, Degraded); imports nothing of either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Condition = dict[str, Any]


def fmt_time(t: datetime) -> str:
    """RFC 3339 in UTC with a Z, as Kubernetes writes times (naive times are taken as UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(type_: str, ok: bool, reason: str, message: str, generation: int | None
              ) -> Condition:
    """A condition without its transition time (set by `merge`)."""
    c: Condition = {"type": type_, "status": "True" if ok else "False", "reason": reason,
                    "message": message}
    if generation is not None:
        c["observedGeneration"] = generation
    return c


def merge(existing: list[Condition] | None, new: Condition, now: datetime) -> Condition:
    """`new` with lastTransitionTime kept from the existing condition of its type when the
    status did not change, else set to `now`."""
    old = find(existing, new["type"])
    out = dict(new)
    if old is not None and old.get("status") == new["status"] and old.get("lastTransitionTime"):
        out["lastTransitionTime"] = old["lastTransitionTime"]
    else:
        out["lastTransitionTime"] = fmt_time(now)
    return out


def find(conditions: list[Condition] | None, type_: str) -> Condition | None:
    """The condition of a type, if present."""
    return next((c for c in conditions or [] if c.get("type") == type_), None)
