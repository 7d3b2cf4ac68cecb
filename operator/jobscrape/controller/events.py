"""Kubernetes Events about a JobSource, built as plain objects."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from jobscrape.controller.conditions import fmt_time

Obj = dict[str, Any]
COMPONENT = "jobscrape-operator"
MAX_MESSAGE = 1024


def build_event(involved: Obj, type_: str, reason: str, message: str, now: datetime,
                key: str | None = None) -> Obj:
    """A core/v1 Event about `involved` (any object with apiVersion, kind and metadata).
    With `key`, the name is derived from it alone, so posting the same event twice fails
    with a conflict instead of duplicating it."""
    m = involved["metadata"]
    stamp = fmt_time(now)
    seed = key or f"{m.get('uid')}{reason}{message}{stamp}"
    digest = hashlib.sha256(seed.encode()).hexdigest()[:10]
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{m['name']}.{digest}", "namespace": m["namespace"]},
        "involvedObject": {"apiVersion": involved["apiVersion"], "kind": involved["kind"],
                           "name": m["name"], "namespace": m["namespace"],
                           "uid": m.get("uid", "")},
        "type": type_, "reason": reason, "message": message[:MAX_MESSAGE],
        "source": {"component": COMPONENT},
        "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
        "reportingComponent": COMPONENT, "reportingInstance": COMPONENT,
    }


def run_event(last_run: Obj) -> tuple[str, str, str]:
    """(type, reason, message) announcing a finished run."""
    result = str(last_run.get("result") or "Unknown")
    msg = (f"Run {last_run.get('jobName') or '(manual)'} {result}: fetched "
           f"{last_run.get('fetched', 0)}, created {last_run.get('created', 0)}, updated "
           f"{last_run.get('updated', 0)}, removed {last_run.get('removed', 0)} in "
           f"{last_run.get('durationSeconds', 0)}s")
    return ("Normal" if result == "Succeeded" else "Warning"), f"Run{result}", msg
