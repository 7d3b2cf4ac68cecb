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
    # how the stored postings were made: "<filters fingerprint>/<parser version>"
    # (runner.pipeline.board_recipe)
    filters: str | None = None
