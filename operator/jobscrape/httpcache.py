"""HTTP cache validators kept per board between runs (ETag / Last-Modified)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional request sends back: If-None-Match / If-Modified-Since."""

    etag: str | None = None
    last_modified: str | None = None
