"""Kubernetes Events about a JobSource, built as plain objects."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from jobscrape.controller.conditions import fmt_time

Obj = dict[str, Any]
COMPONENT = "jobscrape-operator"
MAX_MESSAGE = 1024


def build_event(involved: Obj, type_: str, reason: str, message: str, now: datetime) -> Obj:
    """A core/v1 Event about `involved` (any object with apiVersion, kind and metadata)."""
    m = involved["metadata"]
    stamp = fmt_time(now)
    digest = hashlib.sha256(f"{m.get('uid')}{reason}{message}{stamp}".encode()).hexdigest()[:10]
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
