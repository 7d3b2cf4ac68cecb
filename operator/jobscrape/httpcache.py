"""Validators kept per board between runs: ETag / Last-Modified for conditional requests, and
the digest of the last body, so an unchanged board is neither parsed nor written again."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional request sends back: If-None-Match / If-Modified-Since."""

    etag: str | None = None
    last_modified: str | None = None
    digest: str | None = None  # sha256 of a single-page board's body: unchanged bytes, no parse
    filters: str | None = None  # fingerprint of the filters the stored postings went through
