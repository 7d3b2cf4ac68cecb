"""`jobscrape status`: the sources at a glance, read from the API (no Prometheus needed)."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from jobscrape.api.status import LastRun, read_status
from jobscrape.api.vocabulary import OK_STATES

COLUMNS = ("NAMESPACE", "NAME", "READY", "LAST RUN", "RESULT", "POSTINGS", "NEW",
           "FAILING BOARDS", "NEXT RUN")


def _age(ts: str | None, now: datetime) -> str:
    if not ts:
        return "-"
    try:
        t = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    secs = int((now - t).total_seconds())
    future = secs < 0
    secs = abs(secs)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            text = f"{secs // size}{unit}"
            break
    else:
        text = f"{secs}s"
    return f"in {text}" if future else f"{text} ago"


def _text(value: int | None) -> str:
    return "-" if value is None else str(value)


def status_rows(items: Sequence[dict[str, Any]], now: datetime) -> list[tuple[str, ...]]:
    """One row per JobSource, sorted by namespace and name."""
    rows = []
    for it in sorted(items, key=lambda i: (i["metadata"]["namespace"], i["metadata"]["name"])):
        st = read_status(it.get("status"))
        last = st.last_run or LastRun()
        ready = st.condition("Ready")
        failing = [f"{b.name}({b.state})" for b in st.boards if b.state not in OK_STATES]
        rows.append((
            it["metadata"]["namespace"], it["metadata"]["name"],
            "-" if ready is None else (ready.status if ready.reason != "InvalidSpec"
                                       else "InvalidSpec"),
            _age(last.completion_time, now), last.result or "-",
            _text(st.postings), _text(last.created),
            ", ".join(failing) or "-",
            _age(st.next_schedule_time, now) if st.next_schedule_time else "-",
        ))
    return rows


def render(rows: Sequence[tuple[str, ...]]) -> str:
    """A plain aligned table like kubectl's."""
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
              for i, c in enumerate(COLUMNS)]
    out = io.StringIO()
    for r in (COLUMNS, *rows):
        out.write("   ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
    return out.getvalue()


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `jobscrape status`."""
    p.add_argument("-n", "--namespace", action="append", default=[])
    p.add_argument("-A", "--all-namespaces", action="store_true")
    p.add_argument("--kubeconfig", default=None)


def run(args: argparse.Namespace) -> int:
    """Print the table; 1 when the API cannot be read."""
    from jobscrape.kubeclient import Kube, load_api_client

    kube = Kube(load_api_client(args.kubeconfig))
    namespaces = () if args.all_namespaces else tuple(args.namespace or ["default"])
    try:
        items = kube.list_sources(namespaces)
    except Exception as e:
        print(f"jobscrape status: cannot list jobsources: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(render(status_rows(items, datetime.now(UTC))))
    return 0
