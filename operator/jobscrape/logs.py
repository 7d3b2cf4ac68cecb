"""Logging set-up: human-readable by default, JSON lines with --log-format json."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _SourceContext(logging.Filter):
    """Give records about a source `namespace` and `jobsource` (also kopf's, which carry a
    `k8s_ref`), and a `[ns/name] ` prefix for text lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        ref = getattr(record, "k8s_ref", None)
        if isinstance(ref, dict) and not hasattr(record, "jobsource"):
            record.namespace, record.jobsource = ref.get("namespace"), ref.get("name")
        ns, name = getattr(record, "namespace", None), getattr(record, "jobsource", None)
        record.source = f"[{ns}/{name}] " if ns and name else ""
        return True


class _KopfSuccessAtDebug(logging.Filter):
    """kopf logs every handler's and activity's success at INFO (most of an operator's log);
    show those lines only at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not (record.name.startswith("kopf") and record.levelno == logging.INFO):
            return True
        msg = str(record.msg)
        if not (msg.startswith(("Handler ", "Activity "))
                and msg.rstrip(".").endswith(" succeeded")):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Send logs to stderr as text or JSON (one object per line)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_KopfSuccessAtDebug())
    handler.addFilter(_SourceContext())
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "source", "k8s_ref", "k8s_skip"]))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(source)s%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kubernetes", "urllib3", "httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
